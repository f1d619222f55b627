"""ticket_audits: every audit of every ticket, with its events, from the ticket events export."""

from __future__ import annotations

import typing as t
from functools import cached_property

from typing_extensions import override

from tap_zendesk.streams.ticket_events.field_history import (
    FieldChanges,
    TicketFieldHistoryStream,
)
from tap_zendesk.streams.ticket_events.reader import TicketEventsExport, created_at

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_zendesk.api.pagination import Record


class TicketAuditsStream(TicketEventsExport):
    """Every audit of every ticket, with its events, from the ticket events export.

    The export is complete (archived and deleted tickets included), exactly-once through its
    own bookmark, and reads 1000 audits per request; `/ticket_audits.json` skips records when
    chased and per-ticket reads cost a request per ticket. The export gives `via` as the
    channel's name and `metadata` without its `custom` part.
    """

    name = "ticket_audits"
    replication_key = "created_at"

    @override
    def derive(self, items: list[Record], context: Context | None) -> t.Iterable[Record]:
        """One audit per export item."""
        for event in items:
            if event.get("event_type", "Audit") != "Audit":
                continue
            audit = {
                "id": event["id"],
                "ticket_id": event.get("ticket_id"),
                "created_at": created_at(event),
                "author_id": event.get("updater_id"),
                "via": event.get("via"),
                "via_reference_id": event.get("via_reference_id"),
                "metadata": {"system": event.get("system")},
                "merged_ticket_ids": event.get("merged_ticket_ids"),
                "events": self.events_as_configured(event.get("child_events") or []),
            }
            self.feed(TicketFieldHistoryStream.name, self.field_changes.rows(audit))
            yield audit

    @cached_property
    def field_changes(self) -> FieldChanges:
        """The run's reader of field changes; it remembers tickets' tags between audits."""
        return FieldChanges()

    @override
    def configure_schema(self, schema: dict[str, t.Any]) -> dict[str, t.Any]:
        """No `attachments` on comment events when attachments are left out."""
        schema = super().configure_schema(schema)
        if not self.settings.include_attachments:
            schema["properties"]["events"]["items"]["properties"].pop("attachments", None)
        return schema

    def events_as_configured(self, events: list[Record]) -> list[Record]:
        """Comment events keep their attachments only with include_attachments."""
        if not self.settings.include_attachments:
            for event in events:
                event.pop("attachments", None)
        return events
