"""Ticket, user and organization fields and ticket forms: the account's static catalogue
(https://developer.zendesk.com/api-reference/ticketing/tickets/ticket_fields/,
https://developer.zendesk.com/api-reference/ticketing/tickets/ticket_forms/,
https://developer.zendesk.com/api-reference/ticketing/users/user_fields/,
https://developer.zendesk.com/api-reference/ticketing/organizations/organization_fields/).

The custom ticket fields are exactly the ones tickets carry in ``custom_fields``
(``_TICKET_FIELDS``) plus a few types no ticket uses, and the forms include every
``ticket_form_id`` tickets use, so a client can join tickets to their fields and forms. User
and organization fields (``/user_fields``, ``/organization_fields``) define every key users and
organizations carry in ``user_fields`` / ``organization_fields``, and the values generated
here follow them, apart from a few deliberately ill-typed ones (see ``user_field_values``).
Objects are small and few, so they are built per call from the current base URL instead of
being stored and rebased.
"""

from __future__ import annotations

import random
import time
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

# Recorded regexps of the number and date types (tests/fixtures/ticket_fields.json).
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


# User and organization fields ------------------------------------------------------------

# (id, key, type, title, active). The first four keys of each are the ones the dataset has
# always drawn (from the main random stream); the others come from user_field_values /
# organization_field_values. Keys keep Zendesk's rule (letters, digits, underscores), case
# included: CostCenter is a key a client has to normalise.
USER_FIELDS = (
    (32_000_000_003_001, "plan_tier", "dropdown", "Plan tier", True),
    (32_000_000_003_002, "lifetime_value", "decimal", "Lifetime value", True),
    (32_000_000_003_003, "vip", "checkbox", "VIP", True),
    (32_000_000_003_004, "seats", "integer", "Seats", True),
    (32_000_000_003_005, "customer_since", "date", "Customer since", True),
    (32_000_000_003_006, "employee_number", "regexp", "Employee number", True),
    (32_000_000_003_007, "about", "textarea", "About", True),
    (32_000_000_003_008, "nickname", "text", "Nickname", True),
    (32_000_000_003_009, "account_manager", "lookup", "Account manager", True),
    (32_000_000_003_010, "languages", "multiselect", "Languages", True),
    (32_000_000_003_011, "CostCenter", "text", "Cost center", True),
    (32_000_000_003_012, "legacy_crm_id", "text", "Legacy CRM id", False),
)
ORGANIZATION_FIELDS = (
    (32_000_000_004_001, "region", "dropdown", "Region", True),
    (32_000_000_004_002, "tier", "dropdown", "Tier", True),
    (32_000_000_004_003, "priority_support", "checkbox", "Priority support", True),
    (32_000_000_004_004, "contract_value", "decimal", "Contract value", True),
    (32_000_000_004_005, "employees", "integer", "Employees", True),
    (32_000_000_004_006, "health_score", "decimal", "Health score", True),
    (32_000_000_004_007, "renewal_date", "date", "Renewal date", True),
    (32_000_000_004_008, "account_number", "regexp", "Account number", True),
    (32_000_000_004_009, "industries", "multiselect", "Industries", True),
    (32_000_000_004_010, "parent_organization", "lookup", "Parent organization", True),
    (32_000_000_004_011, "onboarding_notes", "textarea", "Onboarding notes", True),
    (32_000_000_004_012, "crm_segment", "text", "CRM segment", False),
)
# Misfits: every 16th user and every 12th organization has text in its integer field.
MISFIT_USER_SEATS = "n/a"
MISFIT_EMPLOYEES = "unknown"

_REGIONS = ("emea", "amer", "apac")
_LANGUAGES = ("de", "en", "es", "fr", "ja")
_INDUSTRIES = ("finance", "health", "retail", "software")
_USER_OPTION_BASE = 32_000_000_005_000
_ORG_OPTION_BASE = 32_000_000_006_000
_LINES = (
    "Prefers email over phone.",
    "Joined through the partner program.",
    "Asked for quarterly business reviews.",
    "Migrated from the old helpdesk.",
)


def user_fields(base_url: str, epoch: int) -> list[Json]:
    """``/user_fields`` unpaginated: every field in position order (active or not)."""
    return _custom_fields(base_url, epoch, "user_fields", USER_FIELDS, _USER_OPTION_BASE)


def organization_fields(base_url: str, epoch: int) -> list[Json]:
    """``/organization_fields`` unpaginated: every field in position order."""
    return _custom_fields(
        base_url, epoch, "organization_fields", ORGANIZATION_FIELDS, _ORG_OPTION_BASE
    )


def user_field_values(uid: int, index: int, seed: int, agents: list[int]) -> Json:
    """Values of the user fields the main random stream does not draw, from a stream of the
    user's own (so adding fields never changes the rest of the dataset). May override
    ``seats`` with text: the deliberate misfit a client must survive."""
    rng = random.Random(uid * 7919 + seed)
    since = _date(rng) if rng.random() < 0.7 else None
    if since is not None and rng.random() < 0.3:
        since += "T00:00:00Z"  # as the docs' user_fields example gives a date field
    values: Json = {
        "customer_since": since,
        "employee_number": f"E-{rng.randrange(100_000):05d}" if rng.random() < 0.4 else None,
        "about": rng.choice(_LINES) if rng.random() < 0.3 else None,
        "nickname": rng.choice(("Ace", "Kit", "Max", "Bo")) if rng.random() < 0.25 else None,
        "account_manager": rng.choice(agents) if agents and rng.random() < 0.4 else None,
        "languages": sorted(rng.sample(_LANGUAGES, rng.randint(1, 2)))
        if rng.random() < 0.5
        else None,
        # Digits in a text field stay text.
        "CostCenter": str(rng.randrange(1000, 9999)) if rng.random() < 0.3 else None,
        "legacy_crm_id": f"L{rng.randrange(10**6):06d}" if rng.random() < 0.2 else None,
    }
    if index % 16 == 3:
        values["seats"] = MISFIT_USER_SEATS
    return values


def organization_field_values(oid: int, index: int, seed: int, first_org: int, step: int) -> Json:
    """Values of the organization fields the main random stream does not draw; every 12th
    organization has text in its integer field. ``health_score`` comes as numeric text, the
    way the docs show number values."""
    rng = random.Random(oid * 7919 + seed)
    employees: int | str | None = rng.randint(1, 5000) if rng.random() < 0.7 else None
    if index % 12 == 7:
        employees = MISFIT_EMPLOYEES
    parent = first_org + rng.randrange(index) * step if index and rng.random() < 0.3 else None
    return {
        "employees": employees,
        "health_score": f"{rng.uniform(0, 100):.1f}" if rng.random() < 0.6 else None,
        "renewal_date": _date(rng) if rng.random() < 0.6 else None,
        "account_number": f"ACC-{rng.randrange(100_000):05d}" if rng.random() < 0.5 else None,
        "industries": sorted(rng.sample(_INDUSTRIES, rng.randint(1, 2)))
        if rng.random() < 0.4
        else None,
        "parent_organization": parent,
        "onboarding_notes": rng.choice(_LINES) if rng.random() < 0.3 else None,
        "crm_segment": rng.choice(("smb", "mid", "ent")) if rng.random() < 0.3 else None,
    }


def _date(rng: random.Random) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(rng.randint(1_400_000_000, 1_700_000_000)))


_OPTION_VALUES = {
    "plan_tier": _OPTIONS,
    "languages": _LANGUAGES,
    "region": _REGIONS,
    "tier": _OPTIONS,
    "industries": _INDUSTRIES,
}


def _custom_fields(
    base_url: str,
    epoch: int,
    kind: str,
    table: tuple[tuple[int, str, str, str, bool], ...],
    option_base: int,
) -> list[Json]:
    """User or organization field definitions in the documented key order."""
    made = _Maker(base_url, epoch)
    fields = []
    for position, (fid, key, kind_of_field, title, active) in enumerate(table, start=1):
        field: Json = {
            "url": f"{made.base}/api/v2/{kind}/{fid}.json",
            "id": fid,
            "type": kind_of_field,
            "key": key,
            "title": title,
            "raw_title": title,
            "description": f"{title} ({kind_of_field})",
            "raw_description": f"{title} ({kind_of_field})",
            "position": position,
            "active": active,
            "system": False,
            "regexp_for_validation": {
                "integer": _INTEGER_RE,
                "decimal": _DECIMAL_RE,
                "date": _DATE_RE,
                "regexp": "^[A-Z]+-[0-9]{5}$",
            }.get(kind_of_field),
            "created_at": made.stamp(72 + position),
            "updated_at": made.stamp(72 + position + (0 if active else 60 * 24)),
        }
        if kind_of_field == "checkbox":
            field["tag"] = key
        if key in _OPTION_VALUES:
            # The documented option shape of user and organization fields.
            field["custom_field_options"] = [
                {
                    "id": (oid := option_base + 10 * position + index),
                    "name": value.capitalize(),
                    "position": index,
                    "raw_name": value.capitalize(),
                    "url": f"{made.base}/api/v2/{kind}/{fid}/options/{oid}.json",
                    "value": value,
                }
                for index, value in enumerate(_OPTION_VALUES[key])
            ]
        if kind_of_field == "lookup":
            target = "zen:user" if kind == "user_fields" else "zen:organization"
            field["relationship_target_type"] = target
            field["relationship_filter"] = {}
        fields.append(field)
    return fields
