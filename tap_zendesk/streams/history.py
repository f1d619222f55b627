"""Ticket field history: every change of every ticket field, from the audits already read."""

from __future__ import annotations

import typing as t

from tap_zendesk.client import ZendeskStream

if t.TYPE_CHECKING:
    from tap_zendesk.pagination import Record

# Audit events that set a field: Create gives its first value, Change a new one.
_FIELD_EVENTS = frozenset({"Create", "Change"})


class TicketFieldHistoryStream(ZendeskStream):
    """One row per change of a ticket field (system and custom, tags included).

    Derived from the audits `ticket_audits` reads, so it costs no request and moves with that
    stream's bookmark. Custom fields are named by id in audits: their `field_name` is the id
    as text and `field_id` the number. Values are text; list values (tags, multi-select) are
    their space-separated tags, as Zendesk writes tags.
    """

    name = "ticket_field_history"
    fed_by = "ticket_audits"
    primary_keys = ("audit_id", "field_name")


def field_changes(audit: Record) -> t.Iterator[Record]:
    """The history rows of one audit, as the ticket_audits stream shapes it."""
    for event in audit.get("events") or []:
        kind = event.get("event_type") or event.get("type")
        field = event.get("field_name")
        if kind not in _FIELD_EVENTS or not field:
            continue
        field = str(field)
        yield {
            "ticket_id": audit.get("ticket_id"),
            "field_name": field,
            "field_id": int(field) if field.isdigit() else None,
            "value": _text(event.get("value")),
            "previous_value": _text(event.get("previous_value")),
            "updated_at": audit.get("created_at"),
            "updater_id": audit.get("author_id"),
            "audit_id": audit["id"],
            "event_id": event.get("id"),
        }


def _text(value: t.Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    return str(value)
