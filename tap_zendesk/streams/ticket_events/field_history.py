"""Ticket field history: every change of every ticket field, from the audits already read."""

from __future__ import annotations

import json
import typing as t
from collections import OrderedDict

from tap_zendesk.streams.base import ZendeskStream

if t.TYPE_CHECKING:
    from tap_zendesk.api.pagination import Record

# Audit events that set a field: Create gives its first value, Change a new one.
_FIELD_EVENTS = frozenset({"Create", "Change"})
# Keys of an export Create/Change event that describe the event, not the field it set: the
# ticket events export names the field as a key of its own (`"status": "solved"`), so every
# other key is a field, `type` included (the ticket's type; the event's is `event_type`).
_EVENT_KEYS = frozenset({"id", "event_type", "via", "via_reference_id", "previous_value"})
_TAG_DIFFS = ("added_tags", "removed_tags")
# Tickets whose tags a run remembers, to turn a change given only as added/removed tags into
# the whole list; bounded so that memory stays flat over an export of any size.
_REMEMBERED_TICKETS = 50_000


class TicketFieldHistoryStream(ZendeskStream):
    """One row per change of a ticket field (system and custom, tags included).

    Derived from the audits `ticket_audits` reads, so it costs no request and moves with that
    stream's bookmark. Custom fields are named by id: their `field_name` is the id as text
    and `field_id` the number. Values are text; list values (tags, multi-select) are their
    space-separated tags, as Zendesk writes tags.
    """

    name = "ticket_field_history"
    fed_by = "ticket_audits"
    primary_keys = ("audit_id", "field_name")


class FieldChanges:
    """The history rows of audits, read in time order, in either shape Zendesk gives events.

    Per-ticket audits say `field_name`/`value`; the ticket events export makes the field a key
    of the event, custom fields a `custom_ticket_fields` map and tag changes a `tags` list
    and/or `added_tags`/`removed_tags`. A change given only as added/removed tags gets its whole
    list from the ticket's tags seen earlier in the run; when those are unknown (the ticket's
    earlier audits were read in an earlier run) `value` is null and the difference is in
    `added_values`/`removed_values`.
    """

    def __init__(self) -> None:
        self._tags: OrderedDict[t.Any, list[str]] = OrderedDict()

    def rows(self, audit: Record) -> t.Iterator[Record]:
        """The history rows of one audit, as the ticket_audits stream shapes it."""
        ticket = audit.get("ticket_id")
        for event in audit.get("events") or []:
            # Export events say `event_type`, per-ticket audit events `type`; the older
            # exports' child events say neither: a field and its value.
            kind = event["event_type"] if "event_type" in event else event.get("type")
            if kind is not None and kind not in _FIELD_EVENTS:
                continue
            for field, value, previous, diff in self._changes(ticket, event):
                yield {
                    "ticket_id": ticket,
                    "field_name": field,
                    "field_id": int(field) if field.isdigit() else None,
                    "value": _text(value),
                    "previous_value": _text(previous),
                    "added_values": _text(diff[0]) if diff else None,
                    "removed_values": _text(diff[1]) if diff else None,
                    "updated_at": audit.get("created_at"),
                    "updater_id": audit.get("author_id"),
                    "audit_id": audit["id"],
                    "event_id": event.get("id"),
                }

    def _changes(
        self, ticket: t.Any, event: Record
    ) -> t.Iterator[tuple[str, t.Any, t.Any, tuple[list[str], list[str]] | None]]:
        """(field, value, previous value, (added, removed) tags or None) per field set."""
        # Per-ticket audits name the field (and no ticket field is called `field_name`).
        if event.get("field_name"):
            field = str(event["field_name"])
            if field == "tags":
                self._remember(ticket, event.get("value"))
            yield field, event.get("value"), event.get("previous_value"), None
            return
        fields = [
            (key, value)
            for key, value in event.items()
            if key not in _EVENT_KEYS and key not in _TAG_DIFFS and key != "custom_ticket_fields"
        ]
        custom = event.get("custom_ticket_fields")
        if isinstance(custom, dict):
            fields += [(str(key), value) for key, value in custom.items()]
        diff = None
        if any(key in event for key in _TAG_DIFFS):
            diff = (event.get("added_tags") or [], event.get("removed_tags") or [])
            if "tags" not in event:
                fields.append(("tags", self._apply(ticket, diff)))
        # previous_value belongs to the event's one field; with several it is ambiguous.
        previous = event.get("previous_value") if len(fields) == 1 else None
        for field, value in fields:
            if field == "tags":
                before = self._tags.get(ticket)
                if previous is None and before is not None:
                    previous = before
                self._remember(ticket, value)
                yield field, value, previous, diff
            else:
                yield field, value, previous, None

    def _apply(self, ticket: t.Any, diff: tuple[list[str], list[str]]) -> list[str] | None:
        before = self._tags.get(ticket)
        if before is None:
            return None
        added, removed = diff
        return [tag for tag in before if tag not in removed] + [
            tag for tag in added if tag not in before
        ]

    def _remember(self, ticket: t.Any, tags: t.Any) -> None:
        if not isinstance(tags, list):
            return
        self._tags[ticket] = tags
        self._tags.move_to_end(ticket)
        if len(self._tags) > _REMEMBERED_TICKETS:
            self._tags.popitem(last=False)


def _text(value: t.Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    if isinstance(value, dict):  # e.g. an SLA target set on the ticket
        return json.dumps(value, sort_keys=True)
    return str(value)
