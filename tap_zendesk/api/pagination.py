"""One small class per Zendesk paging style.

A paginator only knows the query of the next request, where a page keeps its records, when to
stop, and the point to resume from after the last completed page. It never does HTTP: the base
stream sends the request and hands the parsed body back.
"""

from __future__ import annotations

import abc
import datetime as dt
import typing as t
from urllib.parse import parse_qs, urlsplit

from typing_extensions import Unpack

from tap_zendesk.api.errors import UnexpectedResponse

Record = dict[str, t.Any]


class Paginator(abc.ABC):
    """Walks the pages of one endpoint."""

    def __init__(self, records_key: str, extra_params: t.Mapping[str, t.Any] | None = None):
        self.records_key = records_key
        self.extra_params = dict(extra_params or {})
        self.finished = False

    @abc.abstractmethod
    def params(self) -> dict[str, t.Any]:
        """Query parameters of the next request."""

    @abc.abstractmethod
    def advance(self, body: dict[str, t.Any]) -> None:
        """Move past a page; raise `UnexpectedResponse` rather than loop or guess."""

    def records(self, body: t.Any) -> list[Record]:
        """The page's records, checked to be a list of objects."""
        items = body.get(self.records_key) if isinstance(body, dict) else None
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            msg = f"the page has no {self.records_key!r} list of objects"
            raise UnexpectedResponse(msg)
        return items

    def bookmark(self) -> dict[str, t.Any]:
        """What to save in state so a new run resumes after the last completed page."""
        return {}

    def shrink(self) -> bool:
        """Ask for smaller pages from the next request on; False when they cannot shrink."""
        return False

    def regrow(self) -> None:  # noqa: B027 (most paging styles have no size to regrow)
        """Back towards the configured page size after a page that came through."""


# The smallest page a struggling export is asked for: small enough to pass where 1000 time out,
# large enough that a page still moves the export on.
MIN_SHRUNK_PAGE_SIZE = 25


class ShrinkingPages:
    """`per_page` that halves when Zendesk keeps failing to serve a page (the heaviest pages
    time out or answer 5xx while smaller ones of the same data pass) and doubles back after
    each page served. Exports resume by cursor or time, never by page number, so the page
    size may change from one request to the next."""

    page_size: int
    _configured: int | None = None

    def shrink(self) -> bool:
        """Halve the page size, down to MIN_SHRUNK_PAGE_SIZE."""
        if self._configured is None:
            self._configured = self.page_size
        smaller = max(MIN_SHRUNK_PAGE_SIZE, self.page_size // 2)
        if smaller >= self.page_size:
            return False
        self.page_size = smaller
        return True

    def regrow(self) -> None:
        """Double the page size, up to what was configured."""
        if self._configured is not None and self.page_size < self._configured:
            self.page_size = min(self._configured, self.page_size * 2)


class StuckExport(UnexpectedResponse):
    """A time-based export whose `end_time` stayed at the page's `start_time`: more items share
    that second than a page holds, and Zendesk would answer the same page again."""

    def __init__(self, second: int, count: int, page_size: int) -> None:
        when = dt.datetime.fromtimestamp(second, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        super().__init__(
            f"the export is stuck at {when} (end_time {second}): a full page of {page_size} "
            f"held {count} items of that second and Zendesk's next page starts at that second "
            "again, so reading on would repeat the same page forever"
        )
        self.second = second
        self.count = count
        self.page_size = page_size


def _flag(body: dict[str, t.Any], key: str) -> bool:
    value = body.get(key)
    if not isinstance(value, bool):
        msg = f"the page has no boolean {key!r}"
        raise UnexpectedResponse(msg)
    return value


def _after_cursor(meta: dict[str, t.Any], previous: str | None) -> str:
    """`meta.after_cursor` of a cursor page that has more; an error rather than the same page
    again."""
    after = meta.get("after_cursor")
    if not isinstance(after, str) or not after or after == previous:
        msg = "meta.has_more is true but after_cursor is missing or did not move"
        raise UnexpectedResponse(msg)
    return after


class CursorExport(ShrinkingPages, Paginator):
    """Incremental cursor export: `start_time` once, then `cursor=after_cursor` to end_of_stream.

    The last page still carries an `after_cursor`: it is kept, so the next run asks only for
    what changed after it.
    """

    def __init__(
        self,
        records_key: str,
        *,
        start_time: int,
        cursor: str | None,
        page_size: int,
        extra_params: t.Mapping[str, t.Any] | None = None,
    ) -> None:
        super().__init__(records_key, extra_params)
        self.start_time = start_time
        self.cursor = cursor
        self.page_size = page_size

    def params(self) -> dict[str, t.Any]:
        """`cursor` once we have one, `start_time` before."""
        position = {"cursor": self.cursor} if self.cursor else {"start_time": self.start_time}
        return {**position, "per_page": self.page_size, **self.extra_params}

    def advance(self, body: dict[str, t.Any]) -> None:
        """Take the page's after_cursor; stop at end_of_stream."""
        end_of_stream = _flag(body, "end_of_stream")
        cursor = body.get("after_cursor")
        if cursor is not None and not isinstance(cursor, str):
            msg = "after_cursor is not a string"
            raise UnexpectedResponse(msg)
        if not end_of_stream:
            if not cursor:
                msg = "the page is not the last (end_of_stream false) but has no after_cursor"
                raise UnexpectedResponse(msg)
            if cursor == self.cursor:
                msg = "after_cursor did not move; stopping instead of reading the same page again"
                raise UnexpectedResponse(msg)
        if cursor:
            self.cursor = cursor
        self.finished = end_of_stream

    def bookmark(self) -> dict[str, t.Any]:
        """The cursor after the last completed page."""
        return {"cursor": self.cursor} if self.cursor else {}


class TimePaging(t.TypedDict, total=False):
    """Where a time-based export starts and how it pages."""

    start_time: t.Required[int]
    page_size: t.Required[int]
    # The second an item is filed under (its replication key, as Unix seconds).
    timestamp_of: t.Required[t.Callable[[Record], int]]
    # Ids of the start second already emitted: skipped when Zendesk repeats them.
    seen_at_start: t.Iterable[t.Any]
    extra_params: t.Mapping[str, t.Any] | None


class TimeExport(ShrinkingPages, Paginator):
    """Time-based incremental export: `start_time=end_time` until end_of_stream.

    Zendesk repeats the items of the boundary second on the next page; they are dropped here,
    across pages and, through the bookmark, across runs. An `end_time` that does not move is an
    error, never a loop.
    """

    def __init__(self, records_key: str, **paging: Unpack[TimePaging]) -> None:
        super().__init__(records_key, paging.get("extra_params"))
        self.start_time = paging["start_time"]
        self.page_size = paging["page_size"]
        self.timestamp_of = paging["timestamp_of"]
        self._boundary = (self.start_time, set(paging.get("seen_at_start", ())))

    def params(self) -> dict[str, t.Any]:
        """The next `start_time`."""
        return {"start_time": self.start_time, "per_page": self.page_size, **self.extra_params}

    def records(self, body: t.Any) -> list[Record]:
        """The page without the items already emitted at the boundary second."""
        second, seen = self._boundary
        return [
            item
            for item in super().records(body)
            if not (item.get("id") in seen and self.timestamp_of(item) == second)
        ]

    def advance(self, body: dict[str, t.Any]) -> None:
        """Continue from end_time, remembering which items of that second were emitted."""
        items = super().records(body)
        end_time = body.get("end_time")
        if isinstance(end_time, bool) or not isinstance(end_time, int):
            msg = "the page has no integer 'end_time'"
            raise UnexpectedResponse(msg)
        # The metric events export has been documented without end_of_stream; a short page
        # is its end.
        if "end_of_stream" in body:
            end_of_stream = _flag(body, "end_of_stream")
        else:
            end_of_stream = len(items) < self.page_size
        if not end_of_stream and end_time <= self.start_time:
            second = self.start_time
            count = sum(1 for item in items if self.timestamp_of(item) == second)
            raise StuckExport(second, count, self.page_size)
        at_end = {item.get("id") for item in items if self.timestamp_of(item) == end_time}
        second, seen = self._boundary
        self._boundary = (end_time, seen | at_end if end_time == second else at_end)
        self.start_time = max(self.start_time, end_time)
        self.finished = end_of_stream

    def bookmark(self) -> dict[str, t.Any]:
        """Where the next request starts, and which items of that second were already sent."""
        second, seen = self._boundary
        ids = sorted(seen, key=str) if second == self.start_time else []
        return {"end_time": self.start_time, "boundary_ids": ids}


class TimeThenCursorExport(TimeExport):
    """A time-based export that reads a crowded second with cursor paging.

    For the ticket metric events export, which also pages by cursor (`page[size]` of at most
    100 from a `start_time`): when `end_time` stops moving, the stuck second is read with
    cursor paging instead, dropping the items of that second already emitted, until a page
    reaches a later second; time-based paging then goes on from that page's last second.
    `paging` ("time" or "cursor") is kept in the bookmark: a run resumed in cursor mode reads
    the crowded second again by cursor from its start, its emitted ids (`boundary_ids`)
    keeping every item exactly once, so no cursor has to survive between runs.
    """

    def __init__(
        self,
        records_key: str,
        *,
        cursor_page_size: int,
        paging: str = "time",
        on_fallback: t.Callable[[StuckExport], None] | None = None,
        **time_paging: Unpack[TimePaging],
    ) -> None:
        super().__init__(records_key, **time_paging)
        self.cursor_page_size = cursor_page_size
        self.paging = paging
        self.after: str | None = None
        self.on_fallback = on_fallback

    def params(self) -> dict[str, t.Any]:
        """Time-based: the next `start_time`; by cursor: the stuck second and `page[after]`."""
        if self.paging == "time":
            return super().params()
        params: dict[str, t.Any] = {
            "start_time": self.start_time,
            "page[size]": self.cursor_page_size,
            **self.extra_params,
        }
        if self.after:
            params["page[after]"] = self.after
        return params

    def advance(self, body: dict[str, t.Any]) -> None:
        """Move on in the current mode; a stuck time-based page switches to cursor paging."""
        if self.paging == "time":
            try:
                super().advance(body)
            except StuckExport as stuck:
                # This page's items are emitted: they join the ids already sent of that second.
                self._remember(Paginator.records(self, body), stuck.second)
                self.paging, self.after = "cursor", None
                if self.on_fallback is not None:
                    self.on_fallback(stuck)
            return
        items = Paginator.records(self, body)
        meta = body.get("meta")
        if not isinstance(meta, dict):
            msg = "the cursor page has no 'meta' object"
            raise UnexpectedResponse(msg)
        has_more = _flag(meta, "has_more")
        second = self.start_time
        last = self.timestamp_of(items[-1]) if items else second
        if last > second:
            # Past the crowded second: back to time-based paging from this page's last second.
            self.start_time = last
            self._boundary = (last, set())
            self._remember(items, last)
            self.paging, self.after = "time", None
        else:
            self._remember(items, second)
            if has_more:
                self.after = _after_cursor(meta, self.after)
        self.finished = not has_more

    def _remember(self, items: list[Record], second: int) -> None:
        """Add the ids of `items` filed under `second` to those emitted at that second."""
        at_second = {item.get("id") for item in items if self.timestamp_of(item) == second}
        boundary, seen = self._boundary
        self._boundary = (second, (seen if boundary == second else set()) | at_second)

    def bookmark(self) -> dict[str, t.Any]:
        """The time-based bookmark, and which paging reads on from it."""
        return {**super().bookmark(), "paging": self.paging}


class CursorPages(Paginator):
    """List endpoints with cursor pagination: `page[size]`, then `page[after]`.

    Stops on `meta.has_more`: Zendesk still sets `links.next` and `after_cursor` on the last page.
    """

    def __init__(
        self,
        records_key: str,
        *,
        page_size: int = 100,
        extra_params: t.Mapping[str, t.Any] | None = None,
    ) -> None:
        super().__init__(records_key, extra_params)
        self.page_size = page_size
        self.after: str | None = None

    def params(self) -> dict[str, t.Any]:
        """`page[size]`, and `page[after]` past the first page."""
        params: dict[str, t.Any] = {"page[size]": self.page_size, **self.extra_params}
        if self.after:
            params["page[after]"] = self.after
        return params

    def advance(self, body: dict[str, t.Any]) -> None:
        """Continue from meta.after_cursor while meta.has_more."""
        meta = body.get("meta")
        if not isinstance(meta, dict):
            msg = "the page has no 'meta' object"
            raise UnexpectedResponse(msg)
        has_more = _flag(meta, "has_more")
        if has_more:
            self.after = _after_cursor(meta, self.after)
        self.finished = not has_more


class OffsetPages(Paginator):
    """Legacy offset pagination: `page=N&per_page=M` while `next_page` is set."""

    def __init__(
        self,
        records_key: str,
        *,
        per_page: int = 100,
        extra_params: t.Mapping[str, t.Any] | None = None,
    ) -> None:
        super().__init__(records_key, extra_params)
        self.per_page = per_page
        self.page = 1

    def params(self) -> dict[str, t.Any]:
        """`page` and `per_page`."""
        return {"page": self.page, "per_page": self.per_page, **self.extra_params}

    def advance(self, body: dict[str, t.Any]) -> None:
        """Take the page number from next_page; stop when it is null."""
        next_page = body.get("next_page")
        if next_page is None:
            self.finished = True
            return
        numbers = parse_qs(urlsplit(str(next_page)).query).get("page", [])
        if not numbers or not numbers[0].isdigit() or int(numbers[0]) <= self.page:
            msg = f"next_page {next_page!r} does not point at a later page"
            raise UnexpectedResponse(msg)
        self.page = int(numbers[0])
