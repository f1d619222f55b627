"""One small class per Zendesk paging style.

A paginator only knows the query of the next request, where a page keeps its records, when to
stop, and the point to resume from after the last completed page. It never does HTTP: the base
stream sends the request and hands the parsed body back.
"""

from __future__ import annotations

import abc
import typing as t
from urllib.parse import parse_qs, urlsplit

from tap_zendesk.errors import UnexpectedResponse

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


def _flag(body: dict[str, t.Any], key: str) -> bool:
    value = body.get(key)
    if not isinstance(value, bool):
        msg = f"the page has no boolean {key!r}"
        raise UnexpectedResponse(msg)
    return value


class CursorExport(Paginator):
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


class TimeExport(Paginator):
    """Time-based incremental export: `start_time=end_time` until end_of_stream.

    Zendesk repeats the items of the boundary second on the next page; they are dropped here,
    across pages and, through the bookmark, across runs. An `end_time` that does not move is an
    error, never a loop.
    """

    def __init__(
        self,
        records_key: str,
        *,
        start_time: int,
        page_size: int,
        timestamp_of: t.Callable[[Record], int],
        seen_at_start: t.Iterable[t.Any] = (),
        extra_params: t.Mapping[str, t.Any] | None = None,
    ) -> None:
        super().__init__(records_key, extra_params)
        self.start_time = start_time
        self.page_size = page_size
        self.timestamp_of = timestamp_of
        self._boundary = (start_time, set(seen_at_start))

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
            msg = (
                f"end_time stayed at {end_time} for start_time {self.start_time}; "
                "stopping instead of reading the same page forever"
            )
            raise UnexpectedResponse(msg)
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
            after = meta.get("after_cursor")
            if not isinstance(after, str) or not after or after == self.after:
                msg = "meta.has_more is true but after_cursor is missing or did not move"
                raise UnexpectedResponse(msg)
            self.after = after
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
