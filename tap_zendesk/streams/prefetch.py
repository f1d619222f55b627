"""Reading account lists while the exports wait for their budget.

An account's sync is bound by the incremental-export budget (10 requests a minute): most of
an export's time is spent waiting for it. The account lists (fields, forms, groups, macros,
deleted tickets, ...) draw on the account's budget instead, yet the SDK syncs streams one
after another, so their requests would wait until the exports are done. While an export
reads, this reads the first pages of every selected list stream in the background and keeps
them; when the SDK reaches such a stream, it takes its pages from here instead of asking
Zendesk again.

Nothing is emitted here: records still go out in the SDK's order, each stream's own read
decides what a page means (skips, errors), and a failed read is dropped and redone live. The
lists are read whole in every run (full table), so a page read a little earlier is as good as
one read later in the same run.
"""

from __future__ import annotations

import threading
import typing as t

if t.TYPE_CHECKING:
    from tap_zendesk.streams.base import ZendeskStream

# Pages kept per stream: enough for the lists of most accounts, bounded for the largest.
MAX_PAGES_PER_STREAM = 20
Page = tuple[dict[str, t.Any], t.Any]


class ListPrefetcher:
    """One per run: reads the first pages of the given streams in a background thread."""

    def __init__(self, streams: t.Sequence[ZendeskStream]) -> None:
        self._streams = list(streams)
        self._lock = threading.Lock()
        # Per stream: "running", "done" or "claimed" (its own read started first).
        self._status: dict[str, str] = {}
        self._pages: dict[str, list[Page]] = {}
        self._done: dict[str, threading.Event] = {s.name: threading.Event() for s in streams}
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Begin reading, once per run; a no-op when nothing is to be read."""
        with self._lock:
            if self._thread is not None or not self._streams:
                return
            self._thread = threading.Thread(target=self._run, name="list-prefetch", daemon=True)
        self._thread.start()

    def claim(self, stream: str) -> list[Page]:
        """The pages kept for `stream` (waiting for a read in progress); from then on the
        stream reads for itself."""
        with self._lock:
            status = self._status.get(stream)
            if status is None:
                self._status[stream] = "claimed"
                return []
        if status == "running":
            self._done[stream].wait()
        with self._lock:
            self._status[stream] = "claimed"
            return self._pages.pop(stream, [])

    def _run(self) -> None:
        for stream in self._streams:
            with self._lock:
                if stream.name in self._status:
                    continue  # the stream already reads for itself
                self._status[stream.name] = "running"
            try:
                pages = self._read(stream)
            except Exception:  # noqa: BLE001 (the stream's own read meets it again, and says so)
                pages = []
            with self._lock:
                self._pages[stream.name] = pages
                self._status[stream.name] = "done"
            self._done[stream.name].set()

    @staticmethod
    def _read(stream: ZendeskStream) -> list[Page]:
        paginator = stream.new_paginator(None)
        pages: list[Page] = []
        while not paginator.finished and len(pages) < MAX_PAGES_PER_STREAM:
            params = paginator.params()
            body = stream.list_page(params, once=True)
            paginator.records(body)
            paginator.advance(body)
            pages.append((params, body))
        return pages
