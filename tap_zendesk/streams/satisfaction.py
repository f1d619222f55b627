"""Customer satisfaction (CSAT) ratings: the whole list in every run, changes picked client-side.

Zendesk's reference (https://developer.zendesk.com/api-reference/ticketing/ticket-management/
satisfaction_ratings/) shows ratings changing in place: one id, offered first, scored or
re-scored later, `updated_at` moving past `created_at` (its list example: created
2012-02-01T04:31:29Z, updated 2012-02-02T10:32:59Z). It documents `start_time` only as "Time
of the oldest satisfaction rating", never saying whether that is the creation or the last
change. A bookmark passed as `start_time` would, if Zendesk compares `created_at`, never find
an older rating scored since: measured, 0 of 5 re-read. So `start_time` only applies the
configured start, and the bookmark is applied here, on `updated_at`, which is right whichever
field Zendesk compares.
"""

from __future__ import annotations

import time
import typing as t

from typing_extensions import override

from tap_zendesk.api.pagination import CursorPages, Paginator, Record
from tap_zendesk.streams.incremental import IncrementalExportStream, iso_timestamp, to_epoch

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

# State key: the ratings emitted at the latest `updated_at` second, so the next run, which
# emits from that second on, does not emit them again; ignored unless it is the bookmark's.
BOUNDARY = "boundary"
# The bookmark never passes the run's start less this: a rating changed while the run reads
# may land on a page already read, and Zendesk's clock may be behind ours.
IN_FLIGHT_SECONDS = 60
NEW_CSAT_WARNING = (
    "{name}: Zendesk returned no satisfaction ratings at all since {start}. This endpoint "
    "serves only the legacy CSAT: an account on the new CSAT (survey responses) gets no "
    "ratings from it, and this stream stays empty. If the account uses the new CSAT, read "
    "its survey responses through Zendesk's CSAT survey responses API (this tap does not) "
    "and deselect {name}; if it uses the legacy CSAT, no rating was offered since {start}."
)


class SatisfactionRatingsStream(IncrementalExportStream):
    """Every rating (offered, good, bad), each emitted again at its latest values once it
    changed.

    Each run reads the whole list from the configured start date (cursor pages of 100 on the
    account's rate limit, not the export one: a list of 100 000 ratings costs 1 000 requests
    per run) and emits the ratings whose `updated_at` is at or after the bookmark's second,
    less those of that second the last run emitted. The list is not sorted by `updated_at`,
    so the bookmark is committed when the run ends, and never later than the run's start
    minus IN_FLIGHT_SECONDS: ratings changed while the run read come again in the next one.
    An interrupted run keeps the previous bookmark: the next run emits again what it emitted,
    and loses nothing. A read that finds no rating at all says, once, that accounts on the new
    CSAT get none from this endpoint.
    """

    name = "satisfaction_ratings"
    path = "/satisfaction_ratings.json"
    records_key = "satisfaction_ratings"
    replication_key = "updated_at"
    is_sorted = False
    forbidden_hint = (
        "satisfaction ratings need an admin, on a plan with the legacy CSAT enabled "
        "(accounts on the new CSAT have survey responses instead)"
    )

    @override
    def get_replication_key_signpost(self, context: Context | None = None) -> str:
        """The latest bookmark this run may commit: its start less IN_FLIGHT_SECONDS, in
        Zendesk's timestamp format so the SDK compares like with like."""
        if self._signpost is None:
            self._signpost = iso_timestamp(int(time.time()) - IN_FLIGHT_SECONDS)
        return self._signpost

    _signpost: str | None = None

    @override
    def new_paginator(self, context: Context | None) -> Paginator:
        """Cursor pages from the configured start date, whatever the bookmark."""
        since = self.start_from_bookmark(context)
        boundary = self.resume_state(context).get(BOUNDARY) or {}
        self._since = since
        self._emitted = set(boundary.get("ids") or ()) if boundary.get("at") == since else set()
        self._latest: tuple[int, set[t.Any]] | None = None
        self._read = 0
        return CursorPages(self.records_key, extra_params={"start_time": self.settings.start_epoch})

    @override
    def transform_page(self, items: list[Record], context: Context | None) -> t.Iterable[Record]:
        """The page's ratings changed since the bookmark, less those the last run emitted at
        its second."""
        self._read += len(items)
        for rating in items:
            second = to_epoch(rating[self.replication_key])
            if second < self._since:
                continue
            if second == self._since and rating.get("id") in self._emitted:
                continue
            self._note(second, rating.get("id"))
            yield rating

    def _note(self, second: int, rating_id: t.Any) -> None:
        latest = self._latest
        if latest is None or second > latest[0]:
            self._latest = (second, {rating_id})
        elif second == latest[0]:
            latest[1].add(rating_id)

    @override
    def save_bookmark(self, context: Context | None, paginator: Paginator) -> None:
        """Once the list is read: the ratings of the latest second emitted (and, at that
        second, those the last run emitted, which this run skipped), and, when the list was
        empty, the new-CSAT warning.

        Not after every page: the bookmark only moves at the end of the run, and a run
        resumed from mid-run state starts from the previous bookmark, whose boundary it needs.
        """
        if not paginator.finished:
            return
        if self._read == 0:
            start = iso_timestamp(self.settings.start_epoch)
            warning = NEW_CSAT_WARNING.format(name=self.name, start=start)
            self.logger.warning("%s", warning)
            self.report.stream_note(self.name, warning.removeprefix(f"{self.name}: "))
        if self._latest is None:
            return
        second, ids = self._latest
        if second == self._since:
            ids = ids | self._emitted
        self.resume_state(context)[BOUNDARY] = {"at": second, "ids": sorted(ids, key=str)}
        self.write_state()
