"""Ticket event exports: the audit trail and the SLA/metric events."""

from __future__ import annotations

import typing as t

from typing_extensions import override

from tap_zendesk.api.errors import ZendeskError
from tap_zendesk.api.pagination import (
    Paginator,
    Record,
    TimeExport,
)
from tap_zendesk.state import bookmark_problems
from tap_zendesk.streams.incremental import IncrementalExportStream, iso_timestamp

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class TicketEventsExport(IncrementalExportStream):
    """Base of the streams read from the incremental ticket events export: ticket_audits,
    ticket_comments (by default) and ticket_events.

    Each export item is one ticket audit with its `child_events`; `include=comment_events`
    makes comments full objects there. One request brings up to 1000 audits, where the
    per-ticket endpoints would need a request per ticket.

    The export is read once per run for all of them, since its budget (10 requests a minute)
    is the whole account's: the first of them to sync reads from the earliest of their resume
    points and gives each page to each of them (`derive`). Each takes only the items past its
    own resume point and keeps its own bookmark, saved after every page once all of them have
    emitted it; so a stream selected later still gets its whole history, and a kill at any
    moment loses nothing for any of them.
    """

    path = "/incremental/ticket_events.json"
    records_key = "ticket_events"
    export_style = TimeExport
    # One request shape serves every stream of the export, so each always sees the same items.
    export_params = {"include": "comment_events"}
    scoped_by_support_type = True

    @override
    def record_timestamp(self, record: Record) -> int:
        """Export items are filed under their `timestamp` (Unix seconds)."""
        return int(record["timestamp"])

    def derive(self, items: list[Record], context: Context | None) -> t.Iterable[Record]:
        """This stream's records from export items past its resume point."""
        return items

    # The one read -------------------------------------------------------------------------

    @override
    def get_records(self, context: Context | None) -> t.Iterable[Record]:
        """Read the export for every stream of it that runs, unless one already has."""
        if self.path in self.run.exports_read:
            return iter(())
        self.run.exports_read.add(self.path)
        self._readers = [self] + [
            stream
            for stream in self.tap.streams.values()
            if isinstance(stream, TicketEventsExport)
            and stream is not self
            and (stream.selected or stream.has_selected_descendents)
        ]
        for stream in self._readers[1:]:
            stream.prepare_state(context)  # read_pages prepares this one's
        return self.read_pages(context)

    @override
    def new_paginator(self, context: Context | None) -> Paginator:
        """Time-based pages from the earliest resume point of the streams reading along."""
        for stream in self._readers:
            if problems := bookmark_problems(stream.name, stream.resume_state(context)):
                raise ZendeskError(problems[0])
        positions = {stream.name: stream.position(context) for stream in self._readers}
        self._positions = positions
        first = min(second for second, _ in positions.values())
        # Items of the first second are skipped only if every stream starting there has them.
        starting = [seen for second, seen in positions.values() if second == first]
        return self.time_export({}, self.time_paging(first, set.intersection(*starting)))

    def position(self, context: Context | None) -> tuple[int, set[t.Any]]:
        """Where this stream resumes: the second to read from, and the ids of that second it
        already emitted."""
        state = self.resume_state(context)
        if state.get("end_time") is not None:
            return int(state["end_time"]), set(state.get("boundary_ids") or ())
        return self.export_start_time(context), set()

    @override
    def transform_page(self, items: list[Record], context: Context | None) -> t.Iterable[Record]:
        """Each reading stream's records of the page; this stream's are yielded, the others'
        written directly (they sync later, with nothing left to read)."""
        for stream in self._readers[1:]:
            records = stream.derive(self._past(stream, items), context)
            if stream.selected:
                self.feed(stream.name, records)
            else:  # it runs only for the streams it feeds: its records are not emitted
                for _ in records:
                    pass
        return self.derive(self._past(self, items), context)

    def _past(self, stream: TicketEventsExport, items: list[Record]) -> list[Record]:
        second, seen = self._positions[stream.name]
        return [
            item
            for item in items
            if (ts := self.record_timestamp(item)) > second
            or (ts == second and item.get("id") not in seen)
        ]

    @override
    def save_bookmark(self, context: Context | None, paginator: Paginator) -> None:
        """Every reading stream that the page reached resumes after it; one STATE for all."""
        bookmark = paginator.bookmark()
        end_time, ids = bookmark["end_time"], set(bookmark["boundary_ids"])
        for stream in self._readers:
            state = stream.resume_state(context)
            second, seen = stream.position(context)
            if end_time < second:
                continue  # the read has not reached this stream's resume point yet
            ids_now = ids | seen if end_time == second else ids
            state.update(end_time=end_time, boundary_ids=sorted(ids_now, key=str))
            if stream is not self:
                state["replication_key"] = stream.replication_key
                state["replication_key_value"] = stream.key_value(end_time)
        self.write_state()

    def key_value(self, second: int) -> t.Any:
        """The replication key value of a record filed under `second`."""
        return iso_timestamp(second)


def created_at(event: Record) -> str:
    """An export item's time; older exports give only the `timestamp` epoch."""
    return event.get("created_at") or iso_timestamp(event["timestamp"])


class TicketEventsStream(TicketEventsExport):
    """The incremental ticket events export as Zendesk sends it with
    `include=comment_events`: one item per ticket update, with its `child_events`.

    Bookmarked on `timestamp`, the second the export files an item under; the export is read
    once per run with ticket_audits and ticket_comments (see TicketEventsExport).
    """

    name = "ticket_events"
    replication_key = "timestamp"

    @override
    def key_value(self, second: int) -> int:
        """`timestamp` is Unix seconds."""
        return second
