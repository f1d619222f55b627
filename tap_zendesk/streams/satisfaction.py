"""Customer satisfaction (CSAT) ratings, read incrementally on `start_time`."""

from __future__ import annotations

import typing as t

from tap_zendesk.client import IncrementalExportStream, to_epoch
from tap_zendesk.pagination import CursorPages, Paginator, Record

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

# State key: the ratings emitted at the latest `updated_at` second, so the next run, which
# asks from that second on, does not emit them again.
BOUNDARY = "boundary"


class SatisfactionRatingsStream(IncrementalExportStream):
    """Every rating (offered, good, bad), from the ratings list with `start_time`.

    `start_time` filters on the rating's creation; changing a rating creates a new one, so
    `created_at` equals `updated_at` and bookmarking on `updated_at` misses nothing. Each run
    asks from the bookmark's second (inclusive, so nothing saved later in that second is lost)
    and drops the ratings of that second it already emitted. The list is not sorted by
    `updated_at`, so the bookmark is committed once the whole list is read; an interrupted run
    starts over from the previous bookmark. Not an export: cursor pages of 100, counted
    against the account's rate limit only.
    """

    name = "satisfaction_ratings"
    path = "/satisfaction_ratings.json"
    records_key = "satisfaction_ratings"
    replication_key = "updated_at"
    is_sorted = False
    forbidden_hint = "satisfaction ratings need an admin, on a plan with CSAT enabled"

    def new_paginator(self, context: Context | None) -> Paginator:
        """Cursor pages from the later of the start date and the bookmark."""
        start = self.start_from_bookmark(context)
        boundary = self.resume_state(context).get(BOUNDARY) or {}
        self._start = start
        self._emitted = set(boundary.get("ids") or ()) if boundary.get("at") == start else set()
        self._latest: tuple[int, set[t.Any]] | None = None
        return CursorPages(self.records_key, extra_params={"start_time": start})

    def transform_page(self, items: list[Record], context: Context | None) -> t.Iterable[Record]:
        """The page without the ratings of the start second emitted by the last run."""
        for rating in items:
            second = to_epoch(rating[self.replication_key])
            if second == self._start and rating.get("id") in self._emitted:
                continue
            self._note(second, rating.get("id"))
            yield rating

    def _note(self, second: int, rating_id: t.Any) -> None:
        latest = self._latest
        if latest is None or second > latest[0]:
            self._latest = (second, {rating_id})
        elif second == latest[0]:
            latest[1].add(rating_id)

    def save_bookmark(self, context: Context | None, paginator: Paginator) -> None:
        """After each page: the ratings of the latest second emitted so far (and, at that
        second, those the last run emitted, which this run skipped)."""
        if self._latest is None:
            return
        second, ids = self._latest
        if second == self._start:
            ids = ids | self._emitted
        self.resume_state(context)[BOUNDARY] = {"at": second, "ids": sorted(ids, key=str)}
        self.state_manager.is_flushed = False
        self._write_state_message()
