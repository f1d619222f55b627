"""Ticket event exports: the audit trail and the SLA/metric events."""

from __future__ import annotations

from tap_zendesk.client import IncrementalExportStream
from tap_zendesk.pagination import Record, TimeExport


class TicketEventsExport(IncrementalExportStream):
    """Base of the streams read from the incremental ticket events export.

    Each export item is one ticket audit with its `child_events`; `include=comment_events`
    makes comments full objects there. One request brings up to 1000 audits, where the
    per-ticket endpoints would need a request per ticket.
    """

    path = "/incremental/ticket_events.json"
    records_key = "ticket_events"
    export_style = TimeExport
    export_params = {"include": "comment_events"}
    scoped_by_support_type = True

    def record_timestamp(self, record: Record) -> int:
        """Export items are filed under their `timestamp` (Unix seconds)."""
        return int(record["timestamp"])


class TicketMetricEventsStream(IncrementalExportStream):
    """SLA and metric events (activate, pause, fulfill, apply_sla, breach, update_status, ...)."""

    name = "ticket_metric_events"
    path = "/incremental/ticket_metric_events.json"
    records_key = "ticket_metric_events"
    replication_key = "time"
    export_style = TimeExport

    def is_deleted(self, record: Record) -> bool:
        """Metric events Zendesk withdrew (e.g. a breach that did not happen) say `deleted`."""
        return record.get("deleted") is True
