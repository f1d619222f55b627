"""Ticket fields and ticket forms: the account's static catalogue (API-NOTES §5.5, §5.6).

The custom fields are exactly the ones tickets carry in ``custom_fields`` (``_TICKET_FIELDS``)
plus a few types no ticket uses, and the forms include every ``ticket_form_id`` tickets use, so
a client can join tickets to their fields and forms. Objects are small and few, so they are
built per call from the current base URL instead of being stored and rebased.
"""

from __future__ import annotations

from typing import Any

from .dataset import _BRAND_IDS, _CUSTOM_STATUS_IDS, _FORM_IDS, _OPTIONS, _TICKET_FIELDS, Json, iso

_DAY = 86400

# System fields come first in position order, as on a fresh account.
_SYSTEM_IDS = {
    "subject": 32_000_000_000_601,
    "description": 32_000_000_000_602,
    "status": 32_000_000_000_603,
    "tickettype": 32_000_000_000_604,
    "priority": 32_000_000_000_605,
    "group": 32_000_000_000_606,
    "assignee": 32_000_000_000_607,
    "custom_status": 32_000_000_000_608,
}
_CUSTOM = {kind: fid for fid, kind in _TICKET_FIELDS}
# Custom types that exist on the account but that no ticket fills in.
_TEXTAREA_ID = 32_000_000_001_008
_REGEXP_ID = 32_000_000_001_009
_CARD_ID = 32_000_000_001_010
_LOOKUP_ID = 32_000_000_001_011
_LEGACY_ID = 32_000_000_001_012
_OPTION_BASE = 32_000_000_002_000
_EXTRA_FORM_IDS = (32_000_000_000_303, 32_000_000_000_304)

# Recorded regexps of the number and date types (API-NOTES samples, ticket_field.json).
_INTEGER_RE = "\\A[-+]?\\d+\\z"
_DECIMAL_RE = "\\A[-+]?[0-9]*[.,]?[0-9]+\\z"
_DATE_RE = "\\A([0-9]{4})-(1[0-2]|0[1-9])-(3[01]|[12][0-9]|0[1-9])\\z"

_WORKING = "We are working on a response for you"
_STATUS_LABELS = {
    # status: (category, agent label, end-user label, description, end-user description)
    "new": ("new", "New", "Open", "Ticket is awaiting assignment to an agent", _WORKING),
    "open": ("open", "Open", "Open", "Staff is working on the ticket", _WORKING),
    "pending": (
        "pending",
        "Pending",
        "Awaiting your reply",
        "Staff is waiting for the requester to reply",
        "We are waiting for you to respond",
    ),
    "hold": ("hold", "On-hold", "Open", "Staff is waiting for a third party", _WORKING),
    "solved": (
        "solved",
        "Solved",
        "Solved",
        "The ticket has been solved",
        "This request has been solved",
    ),
    # Zendesk has no "closed" category (closed tickets keep a solved-category status), but the
    # tickets here point at an id of their own, which must resolve.
    "closed": (
        "solved",
        "Closed",
        "Solved",
        "The ticket is closed and can no longer be reopened",
        "This request has been closed",
    ),
}


def ticket_fields(base_url: str, epoch: int) -> list[Json]:
    """Every field, system and custom, ordered by position then id (the unpaginated order).

    ``epoch`` anchors the timestamps (fields predate every ticket); ``base_url`` goes into urls.
    """
    made = _Maker(base_url, epoch)
    fields = [
        made.field(
            "subject",
            "Subject",
            "",
            1,
            removable=False,
            visible=True,
            editable=True,
            required_portal=True,
        ),
        made.field(
            "description",
            "Description",
            "Please enter the details of your request. A member of our support staff will"
            " respond as soon as possible.",
            2,
            removable=False,
            visible=True,
            editable=True,
            required_portal=True,
        ),
        made.field(
            "status",
            "Status",
            "Request status",
            3,
            removable=False,
            system_field_options=[
                {"name": "Open", "value": "open"},
                {"name": "Pending", "value": "pending"},
                {"name": "On-hold", "value": "hold"},
                {"name": "Solved", "value": "solved"},
            ],
            sub_type_id=0,
        ),
        made.field(
            "tickettype",
            "Type",
            "Request type",
            4,
            system_field_options=[
                {"name": "Question", "value": "question"},
                {"name": "Incident", "value": "incident"},
                {"name": "Problem", "value": "problem"},
                {"name": "Task", "value": "task"},
            ],
            sub_type_id=0,
        ),
        made.field(
            "priority",
            "Priority",
            "Request priority",
            5,
            visible=True,
            system_field_options=[
                {"name": "Low", "value": "low"},
                {"name": "Normal", "value": "normal"},
                {"name": "High", "value": "high"},
                {"name": "Urgent", "value": "urgent"},
            ],
            sub_type_id=0,
        ),
        made.field("group", "Group", "Request group", 6, removable=False),
        made.field(
            "assignee",
            "Assignee",
            "Agent assigned to your request",
            7,
            removable=False,
            required=True,
            visible=True,
        ),
        made.field(
            "custom_status",
            "Ticket status",
            "Request ticket status",
            8,
            removable=False,
            custom_statuses=made.custom_statuses(),
        ),
        made.field(
            "text",
            "Customer note",
            "Free text the customer gave",
            9,
            visible=True,
            editable=True,
            agent_description="Copied from the web form",
        ),
        made.field(
            "tagger",
            "Plan tier",
            "Plan of the requester's account",
            10,
            visible=True,
            editable=True,
            custom_field_options=made.options(0, _OPTIONS),
        ),
        made.field(
            "multiselect",
            "Eligible tiers",
            "Tiers the request covers",
            11,
            custom_field_options=made.options(10, _OPTIONS),
        ),
        made.field("checkbox", "VIP customer", "Handle with priority", 12, tag="vip_customer"),
        made.field("integer", "Seats", "Licensed seats", 13, regexp=_INTEGER_RE),
        made.field("decimal", "Order value", "Order value in EUR", 14, regexp=_DECIMAL_RE),
        made.field("date", "Renewal date", "Next contract renewal", 15, regexp=_DATE_RE),
        made.field(
            "textarea",
            "Steps to reproduce",
            "What led to the problem",
            16,
            visible=True,
            editable=True,
            fid=_TEXTAREA_ID,
        ),
        made.field(
            "regexp",
            "Serial number",
            "Device serial number",
            17,
            regexp="^[0-9]+-[0-9]+-[0-9]+$",
            fid=_REGEXP_ID,
        ),
        made.field("partialcreditcard", "Card (last digits)", "Card used to pay", 18, fid=_CARD_ID),
        made.field(
            "lookup",
            "Success manager",
            "Agent who owns the account",
            19,
            relationship_target_type="zen:user",
            relationship_filter={"all": [{"field": "role", "operator": "is", "value": "Agent"}]},
            fid=_LOOKUP_ID,
        ),
        made.field(
            "text",
            "Legacy reference",
            "Reference from the old helpdesk",
            20,
            active=False,
            fid=_LEGACY_ID,
        ),
    ]
    fields.sort(key=lambda f: (f["position"], f["id"]))
    return fields


def ticket_forms(base_url: str, epoch: int) -> list[Json]:
    """The forms, ordered by position: two that tickets use, one without conditions, one
    inactive. Condition counts are deliberately irregular so flattening them is exercised."""
    made = _Maker(base_url, epoch)
    system = [_SYSTEM_IDS[k] for k in _SYSTEM_IDS if k != "custom_status"]
    text, tagger, multi = _CUSTOM["text"], _CUSTOM["tagger"], _CUSTOM["multiselect"]
    checkbox = _CUSTOM["checkbox"]
    integer, decimal, date = (_CUSTOM[k] for k in ("integer", "decimal", "date"))
    default, billing = _FORM_IDS
    technical, legacy = _EXTRA_FORM_IDS
    return [
        made.form(
            default,
            "Default Ticket Form",
            1,
            [*system, *_CUSTOM.values()],
            default=True,
            agent=[
                _condition(
                    tagger,
                    "gold",
                    "tagger",
                    _child(integer, False, "SOME_STATUSES", ["solved"]),
                    _child(date, True, "ALL_STATUSES"),
                ),
                _condition(checkbox, True, None, _child(decimal, False, "NO_STATUSES")),
                _condition(
                    tagger,
                    "platinum",
                    "tagger",
                    _child(integer, True, "SOME_STATUSES", ["new", "open", "hold"]),
                    _child(decimal, True, "ALL_STATUSES"),
                    _child(text, False, "NO_STATUSES"),
                ),
            ],
            end_user=[
                _condition(tagger, "gold", "tagger", _child(integer, True)),
                _condition(checkbox, True, None, _child(decimal, False), _child(date, True)),
            ],
        ),
        made.form(
            billing,
            "Billing",
            2,
            [*system, tagger, checkbox, integer, decimal, text],
            brands=[_BRAND_IDS[0]],
            agent=[
                _condition(
                    checkbox, False, "checkbox", _child(text, True, "SOME_STATUSES", ["solved"])
                ),
            ],
            end_user=[_condition(checkbox, False, "checkbox", _child(text, False))],
        ),
        made.form(
            technical,
            "Technical issue",
            3,
            [*system, _TEXTAREA_ID, _REGEXP_ID, multi],
            end_user_visible=False,
        ),
        made.form(
            legacy,
            "Legacy returns",
            4,
            [*system, tagger, text, integer, date, _LEGACY_ID],
            active=False,
            end_user_visible=False,
            agent=[
                _condition(
                    tagger,
                    "trial",
                    None,
                    _child(text, True, "ALL_STATUSES"),
                    _child(integer, False, "NO_STATUSES"),
                    _child(_LEGACY_ID, True, "SOME_STATUSES", ["open"]),
                    _child(date, False, "NO_STATUSES"),
                ),
            ],
            end_user=[],
        ),
    ]


class _Maker:
    """Builds objects in the recorded key order with URLs on one base and stable timestamps."""

    def __init__(self, base_url: str, epoch: int) -> None:
        self.base = base_url.rstrip("/")
        # The account predates the data window by a year; setup happened over a few hours.
        self.created = epoch - 400 * _DAY

    def stamp(self, offset_hours: int) -> str:
        return iso(self.created + offset_hours * 3600)

    def field(
        self,
        kind: str,
        title: str,
        description: str,
        position: int,
        *,
        active: bool = True,
        required: bool = False,
        visible: bool = False,
        editable: bool = False,
        required_portal: bool = False,
        removable: bool = True,
        regexp: str | None = None,
        tag: str | None = None,
        agent_description: str | None = None,
        fid: int | None = None,
        **extra: Any,
    ) -> Json:
        """One field; its id is the type's unless ``fid`` names a field no ticket uses."""
        if fid is None:
            fid = _SYSTEM_IDS.get(kind) or _CUSTOM[kind]
        return {
            "url": f"{self.base}/api/v2/ticket_fields/{fid}.json",
            "id": fid,
            "type": kind,
            "title": title,
            "raw_title": title,
            "description": description,
            "raw_description": description,
            "position": position,
            "active": active,
            "required": required,
            "collapsed_for_agents": False,
            "regexp_for_validation": regexp,
            "title_in_portal": title,
            "raw_title_in_portal": title,
            "visible_in_portal": visible,
            "editable_in_portal": editable,
            "required_in_portal": required_portal,
            "tag": tag,
            "created_at": self.stamp(position),
            # Custom fields were edited once more a month later; system fields never were.
            "updated_at": self.stamp(position + (30 * 24 if removable else 0)),
            "removable": removable,
            "key": None,
            "agent_description": agent_description,
            **extra,
        }

    def options(self, first: int, values: tuple[str, ...]) -> list[Json]:
        """``custom_field_options``: values are the tags tickets carry in ``custom_fields``."""
        return [
            {
                "id": _OPTION_BASE + first + index,
                "name": value.capitalize(),
                "raw_name": value.capitalize(),
                "value": value,
                "default": False,
            }
            for index, value in enumerate(values)
        ]

    def custom_statuses(self) -> list[Json]:
        """One custom status per id tickets use in ``custom_status_id``."""
        statuses = []
        for status, sid in _CUSTOM_STATUS_IDS.items():
            category, agent, end_user, description, end_user_description = _STATUS_LABELS[status]
            statuses.append(
                {
                    "url": f"{self.base}/api/v2/custom_statuses/{sid}.json",
                    "id": sid,
                    "status_category": category,
                    "agent_label": agent,
                    "end_user_label": end_user,
                    "description": description,
                    "end_user_description": end_user_description,
                    "active": True,
                    "default": status != "closed",
                    "created_at": self.stamp(0),
                    "updated_at": self.stamp(0),
                }
            )
        return statuses

    def form(
        self,
        fid: int,
        name: str,
        position: int,
        field_ids: list[int],
        *,
        default: bool = False,
        active: bool = True,
        end_user_visible: bool = True,
        brands: list[int] | None = None,
        agent: list[Json] | None = None,
        end_user: list[Json] | None = None,
    ) -> Json:
        return {
            "url": f"{self.base}/api/v2/ticket_forms/{fid}.json",
            "id": fid,
            "name": name,
            "raw_name": name,
            "display_name": name,
            "raw_display_name": name,
            "end_user_visible": end_user_visible,
            "position": position,
            "ticket_field_ids": field_ids,
            "active": active,
            "default": default,
            "in_all_brands": not brands,
            "restricted_brand_ids": brands or [],
            "end_user_conditions": end_user or [],
            "agent_conditions": agent or [],
            "created_at": self.stamp(48 + position),
            "updated_at": self.stamp(48 + position + (0 if active else 90 * 24)),
        }


def _condition(parent: int, value: str | bool, parent_type: str | None, *children: Json) -> Json:
    """A condition as in the docs example; ``parent_field_type`` is newer and not always sent."""
    condition: Json = {"parent_field_id": parent}
    if parent_type is not None:
        condition["parent_field_type"] = parent_type
    condition["value"] = value
    condition["child_fields"] = list(children)
    return condition


def _child(
    field_id: int, required: bool, on: str | None = None, statuses: list[str] | None = None
) -> Json:
    """A child field; agent conditions add ``required_on_statuses``, end-user ones do not."""
    child: Json = {"id": field_id, "is_required": required}
    if on is not None:
        child["required_on_statuses"] = {"type": on, **({"statuses": statuses} if statuses else {})}
    return child
