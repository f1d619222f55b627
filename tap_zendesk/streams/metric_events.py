"""ticket_metric_events: SLA and metric events, from their own time-based export."""

from __future__ import annotations

import typing as t

from typing_extensions import override

from tap_zendesk.api.pagination import (
    Record,
    StuckExport,
    TimeExport,
    TimePaging,
    TimeThenCursorExport,
)
from tap_zendesk.streams.incremental import IncrementalExportStream, iso_timestamp

# The metric events export also pages by cursor, at most 100 a page: "If the results are not
# paginated, events will be returned as a time-based incremental export"
# (https://developer.zendesk.com/api-reference/ticketing/tickets/ticket_metric_events/, List
# Ticket Metric Events).
METRIC_EVENTS_CURSOR_PAGE_SIZE = 100


class TicketMetricEventsStream(IncrementalExportStream):
    """SLA and metric events (activate, pause, fulfill, apply_sla, breach, update_status, ...)."""

    name = "ticket_metric_events"
    path = "/incremental/ticket_metric_events.json"
    records_key = "ticket_metric_events"
    replication_key = "time"
    export_style = TimeExport

    @override
    def time_export(self, state: dict[str, t.Any], paging: TimePaging) -> TimeExport:
        """Time-based paging that reads a crowded second by cursor instead of stopping."""
        resumed = state.get("paging") if state.get("end_time") is not None else None
        return TimeThenCursorExport(
            self.records_key,
            **paging,
            cursor_page_size=METRIC_EVENTS_CURSOR_PAGE_SIZE,
            paging="cursor" if resumed == "cursor" else "time",
            on_fallback=self._fell_back,
        )

    def _fell_back(self, stuck: StuckExport) -> None:
        self.logger.warning(
            "%s: %d events share %s, more than a page holds: reading that second by cursor "
            "(%d a page), then time-based again",
            self.name,
            stuck.count,
            iso_timestamp(stuck.second),
            METRIC_EVENTS_CURSOR_PAGE_SIZE,
        )

    @override
    def is_deleted(self, record: Record) -> bool:
        """Metric events Zendesk withdrew (e.g. a breach that did not happen) say `deleted`."""
        return record.get("deleted") is True
