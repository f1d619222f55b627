"""Account lists (fields, forms, groups, macros, deleted tickets, ...): read whole in every run,
so their pages can be read early and, where several streams read one endpoint, once.

An account's sync is bound by the incremental-export budget (10 requests a minute): most of an
export's time is spent waiting for it. The lists draw on the account's budget instead, yet the
SDK syncs streams one after another, so their requests would wait until the exports are done.
While an export reads, `ListReads` reads the first pages of every selected list stream in the
background and keeps them; when the SDK reaches such a stream, its pages come from here
instead of from Zendesk again.

Nothing is emitted here: records still go out in the SDK's order, each stream's own read
decides what a page means (skips, errors), and a failed read is dropped and redone live. A
page read a little earlier is as good as one read later in the same run.
"""

from __future__ import annotations

import copy
import itertools
import threading
import typing as t

if t.TYPE_CHECKING:
    from tap_zendesk.api.pagination import Paginator

# Pages kept per stream: enough for the lists of most accounts, bounded for the largest.
MAX_PAGES_PER_STREAM = 20
# A page read ahead: the query that asked for it, and its JSON.
KeptPage = tuple[dict[str, t.Any], t.Any]


class ListStream(t.Protocol):
    """What ListReads needs of a stream that reads one list endpoint whole."""

    name: str
    path: str

    def new_paginator(self, context: None) -> Paginator:
        """A fresh paginator of the endpoint."""
        ...

    def get(
        self, path: str, params: dict[str, t.Any], context: None = None, *, once: bool = False
    ) -> t.Any:
        """One page through the run's request engine."""
        ...

    def walk(
        self, paginator: Paginator, fetch: t.Callable[[Paginator], t.Any], where: str
    ) -> t.Iterator[t.Any]:
        """The pages `paginator` asks for, each with its `params` and `body` (base.py)."""
        ...


class ListReads:
    """One per run: the list streams' pages, read ahead and shared."""

    def __init__(self, streams: t.Sequence[ListStream]) -> None:
        self.streams = list(streams)
        self._lock = threading.Lock()
        # Per stream: "running", "done" or "claimed" (its own read started first).
        self._status: dict[str, str] = {}
        self._pages: dict[str, list[KeptPage]] = {}
        self._done = {stream.name: threading.Event() for stream in self.streams}
        self._thread: threading.Thread | None = None
        # Endpoints read by several selected streams (the ticket forms and their conditions).
        paths = [stream.path for stream in self.streams]
        self._shared_paths = {path for path in paths if paths.count(path) > 1}
        self._shared: dict[tuple[str, tuple[t.Any, ...]], t.Any] = {}

    def start(self) -> None:
        """Begin reading ahead, once per run; a no-op when nothing is to be read."""
        with self._lock:
            if self._thread is not None or not self.streams:
                return
            self._thread = threading.Thread(target=self._run, name="list-prefetch", daemon=True)
        self._thread.start()

    def page(self, stream: ListStream, paginator: Paginator) -> t.Any:
        """The page `paginator` asks for: read ahead, read once for every stream of its
        endpoint, or read now."""
        params = paginator.params()
        with self._lock:
            self._status.setdefault(stream.name, "claimed")
        if self._status[stream.name] == "running":
            self._done[stream.name].wait()
        with self._lock:
            self._status[stream.name] = "claimed"
            kept = self._pages.get(stream.name)
            if kept:
                kept_params, body = kept.pop(0)
                if kept_params == params:
                    return body
                kept.clear()  # the stream pages differently from the read ahead: read live
        return self._read_page(stream, params)

    def _read_page(
        self, stream: ListStream, params: dict[str, t.Any], *, once: bool = False
    ) -> t.Any:
        if stream.path not in self._shared_paths:
            return stream.get(stream.path, params, once=once)
        key = (stream.path, tuple(sorted(params.items())))
        with self._lock:
            body = self._shared.get(key)
        if body is None:
            body = stream.get(stream.path, params, once=once)
            with self._lock:
                body = self._shared.setdefault(key, body)
        # Each stream edits its records in place: each gets its own copy.
        return copy.deepcopy(body)

    def _run(self) -> None:
        for stream in self.streams:
            with self._lock:
                if stream.name in self._status:
                    continue  # the stream already reads for itself
                self._status[stream.name] = "running"
            try:
                pages = self._read_ahead(stream)
            except Exception:  # noqa: BLE001 (the stream's own read meets it again, and says so)
                pages = []
            with self._lock:
                self._pages[stream.name] = pages
                self._status[stream.name] = "done"
            self._done[stream.name].set()

    def _read_ahead(self, stream: ListStream) -> list[KeptPage]:
        pages = stream.walk(
            stream.new_paginator(None),
            lambda paginator: self._read_page(stream, paginator.params(), once=True),
            stream.path,
        )
        return [(page.params, page.body) for page in itertools.islice(pages, MAX_PAGES_PER_STREAM)]
