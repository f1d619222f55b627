"""Incremental export streams: resume points, start-date changes, the export's time window."""

from __future__ import annotations

import datetime as dt
import time
import typing as t

from typing_extensions import override

from tap_zendesk.api.errors import ZendeskError
from tap_zendesk.api.pagination import CursorExport, Paginator, Record, TimeExport, TimePaging
from tap_zendesk.state import bookmark_problems
from tap_zendesk.streams.base import ZendeskStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

# The bookmark key holding how the start was configured when the stream's state began.
START_SETTING = "start_setting"
# Zendesk refuses an export start_time within the last minute (422).
EXPORT_SAFETY_SECONDS = 61


class IncrementalExportStream(ZendeskStream):
    """An incremental export endpoint, resumable from the bookmark of its last page."""

    is_sorted = True
    # Re-reading the page in flight after a kill repeats values just below the bookmark.
    check_sorted = False
    forbidden_hint = "incremental exports need a Zendesk admin user"
    export_style: t.ClassVar[type[CursorExport | TimeExport]] = CursorExport
    # Fixed query parameters of every export request, e.g. side-loads.
    export_params: t.ClassVar[dict[str, str]] = {}

    # Whether the export itself can leave deleted rows out (`exclude_deleted=true`).
    excludes_deleted_server_side: t.ClassVar[bool] = False
    # Whether the export takes `support_type_scope` (the ticket exports and the ticket events
    # export): without it Zendesk gives agent tickets only, never the AI-agent ones.
    scoped_by_support_type: t.ClassVar[bool] = False

    @override
    def read_pages(self, context: Context | None) -> t.Iterator[Record]:
        """The export's pages; its waits for the export budget let the account lists be read
        meanwhile (see lists.py)."""
        if self.run.syncing_all:
            self.run.list_reads.start()
        return super().read_pages(context)

    @override
    def prepare_state(self, context: Context | None) -> None:
        """Re-read from the start when start_date or days_back changed since the last run.

        The state keeps how the start was configured; an unchanged setting (a days_back
        whose date moved with the calendar included) never resets anything.
        """
        state = self.resume_state(context)
        current = self.settings.start_setting
        recorded = state.get(START_SETTING)
        if recorded is not None and recorded != current:
            self.logger.info(
                "%s: the start changed (%s, was %s): re-reading from %s",
                self.name,
                current,
                recorded,
                iso_timestamp(self.settings.start_epoch),
            )
            state.clear()
        state[START_SETTING] = current

    @override
    def progress_start(self, context: Context | None) -> int | None:
        """The export runs from its start time towards now."""
        return self.export_start_time(context)

    @override
    def progress_position(self, items: list[Record]) -> int | None:
        """The export time of a page's last item."""
        try:
            return self.record_timestamp(items[-1]) if items else None
        except (KeyError, TypeError, ValueError):
            return None

    def export_start_time(self, context: Context | None) -> int:
        """The later of start date and bookmark, never within Zendesk's last minute."""
        return min(self.start_from_bookmark(context), int(time.time()) - EXPORT_SAFETY_SECONDS)

    def start_from_bookmark(self, context: Context | None) -> int:
        """The later of the start date and the bookmark (Unix seconds)."""
        start = self.settings.start_epoch
        bookmark = self.resume_state(context).get("replication_key_value")
        if bookmark is not None:
            start = max(start, to_epoch(bookmark))
        return start

    def record_timestamp(self, record: Record) -> int:
        """The second the export files a record under: its replication key."""
        return to_epoch(record[self.replication_key])

    @override
    def new_paginator(self, context: Context | None) -> Paginator:
        """Resume from the saved cursor or end_time, else from the start time."""
        state = self.resume_state(context)
        if problems := bookmark_problems(self.name, state):
            raise ZendeskError(problems[0])
        if self.export_style is CursorExport:
            return CursorExport(
                self.records_key,
                start_time=self.export_start_time(context),
                cursor=state.get("cursor"),
                page_size=self.settings.page_size,
                extra_params=self.request_params(),
            )
        end_time, seen = state.get("end_time"), state.get("boundary_ids") or []
        if end_time is None:
            return self.time_export(state, self.time_paging(self.export_start_time(context), ()))
        return self.time_export(state, self.time_paging(end_time, seen))

    def request_params(self) -> dict[str, str]:
        """The fixed query of every request to the export (side-loads, filters)."""
        params = dict(self.export_params)
        if self.settings.exclude_deleted and self.excludes_deleted_server_side:
            params["exclude_deleted"] = "true"
        if self.scoped_by_support_type:
            # On every request, cursor follow-ups included: a cursor is not documented to
            # remember the scope of the request that made it.
            params["support_type_scope"] = self.settings.ticket_scope
        return params

    def time_paging(self, start_time: int, seen_at_start: t.Iterable[t.Any]) -> TimePaging:
        """What every time-based paginator of this export takes: from `start_time`, the ids of
        that second already emitted skipped."""
        return TimePaging(
            start_time=start_time,
            seen_at_start=seen_at_start,
            page_size=self.settings.page_size,
            timestamp_of=self.record_timestamp,
            extra_params=self.request_params(),
        )

    def time_export(self, state: dict[str, t.Any], paging: TimePaging) -> TimeExport:
        """The time-based paginator resuming from `state`, with the `time_paging` options."""
        return TimeExport(self.records_key, **paging)


def to_epoch(value: int | str | dt.datetime) -> int:
    """Unix seconds from an epoch, an ISO-8601 string or a datetime."""
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return int(value.timestamp())


def iso_timestamp(epoch: int) -> str:
    """Zendesk's timestamp format (second precision, `Z`) for Unix seconds."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
