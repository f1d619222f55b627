"""Page selection for Zendesk's two incremental export styles.

Kept free of HTTP and of the dataset so the paging rules can be unit tested on plain lists. The
rules: https://developer.zendesk.com/documentation/ticketing/managing-tickets/using-the-incremental-export-api
(time-based and cursor-based exports) and the recorded pages of tests/fixtures/recorded_pages.json
(zenpy's cassettes of live accounts). Both selectors take a list that is already sorted in the
export's order and a visibility ``cutoff`` (the one-minute rule: items with ``ts > cutoff`` do
not exist yet).
"""

from __future__ import annotations

import base64
import binascii
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

DEFAULT_PER_PAGE = 1000
MAX_PER_PAGE = 1000

# Larger than any int64 id, so ``(cutoff, _MAX_ID)`` sorts after every item of the cutoff second.
_MAX_ID = 1 << 63

# Recorded cursors decode to "<ts>.0||<id>|" (tests/fixtures/recorded_pages.json,
# tickets_cursor_full_page and users_cursor_full_page). The fractional part is accepted
# but ignored because the emulator's timestamps are whole seconds.
_CURSOR_RE = re.compile(r"(\d+)(?:\.\d+)?\|\|(\d+)\|")


class InvalidCursorError(ValueError):
    """Raised for a cursor that is not one the emulator could have minted."""


def encode_cursor(ts: int, item_id: int) -> str:
    """Mint the cursor Zendesk would hand out after the item ``(ts, item_id)``."""
    return base64.b64encode(f"{ts}.0||{item_id}|".encode("ascii")).decode("ascii")


def decode_cursor(cursor: str) -> tuple[int, int]:
    """Return the ``(ts, id)`` position a cursor points after.

    Strict base64 on purpose: a client that forgets to URL-encode the cursor turns ``+`` into a
    space, and that bug should surface here rather than be papered over.
    """
    try:
        text = base64.b64decode(cursor.encode("ascii"), validate=True).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise InvalidCursorError(cursor) from exc
    match = _CURSOR_RE.fullmatch(text)
    if match is None:
        raise InvalidCursorError(cursor)
    return int(match[1]), int(match[2])


def start_position(start_time: int) -> tuple[int, int]:
    """Cursor position for a first request: everything with ``ts >= start_time``.

    Ids are positive, so ``(start_time, 0)`` sorts before every item of that second.
    """
    return (start_time, 0)


def clamp_per_page(value: int) -> int:
    """Zendesk caps incremental pages at 1000; smaller than 1 makes no sense, so use 1."""
    return max(1, min(MAX_PER_PAGE, value))


@dataclass(frozen=True, slots=True)
class CursorPage(Generic[T]):
    """One cursor-export page: the items, the position after them, and whether data remains."""

    items: list[T]
    after: tuple[int, int]
    end_of_stream: bool


@dataclass(frozen=True, slots=True)
class TimePage(Generic[T]):
    """One time-based export page: the items, the next ``start_time``, and the end flag."""

    items: list[T]
    end_time: int
    end_of_stream: bool


def select_cursor_page(
    records: Sequence[T],
    key: Callable[[T], tuple[int, int]],
    after: tuple[int, int],
    per_page: int,
    cutoff: int,
    keep: Callable[[T], bool] | None = None,
) -> CursorPage[T]:
    """Select the page after ``after`` from ``records`` sorted by ``key`` = (ts, id).

    Exactly ``per_page`` items (fewer only at the end): the cursor export has no same-second
    expansion because the id breaks ties. ``keep`` filters items out (``exclude_deleted``)
    without changing positions, so a stored cursor stays valid whichever filter is used.
    On an empty page the position is returned unchanged so a client can always persist it.
    """
    start = bisect_right(records, after, key=key)
    stop = bisect_right(records, (cutoff, _MAX_ID), key=key)
    if keep is None:
        end = max(start, min(start + per_page, stop))
        items = list(records[start:end])
        more = end < stop
    else:
        items = []
        index = start
        while index < stop and len(items) < per_page:
            record = records[index]
            index += 1
            if keep(record):
                items.append(record)
        more = any(keep(records[i]) for i in range(index, stop))
    position = key(items[-1]) if items else after
    return CursorPage(items=items, after=position, end_of_stream=not more)


def select_time_page(
    records: Sequence[T],
    ts_of: Callable[[T], int],
    start_time: int,
    per_page: int,
    cutoff: int,
    stuck: bool = False,
    capped: bool = False,
) -> TimePage[T]:
    """Select a time-based page from ``records`` sorted by timestamp (ties in any fixed order).

    Rules as recorded (tests/fixtures/recorded_pages.json: tickets_time_full_page,
    tickets_time_last_page, tickets_time_same_second) and documented (https://developer.zendesk.com/documentation/ticketing/managing-tickets/using-the-incremental-export-api#time-based-incremental-exports):
    - the first ``per_page`` items with ``ts >= start_time``;
    - if that reaches the end of the visible data: ``end_of_stream`` and ``end_time`` = last ts;
    - else if they all share one second: the whole second is returned and ``end_time = ts + 1``,
      which is how Zendesk avoids looping on a same-second flood;
    - else ``end_time`` = ts of the last item, so the boundary second is only partly included
      and comes back in full on the next page (the documented boundary duplicates).
    ``stuck`` reproduces the reported failure where ``end_time`` never advances.
    ``capped`` is what a user reports instead of the recorded expansion
    (https://github.com/PostHog/posthog/issues/59215: more than a page of items in one second
    loops forever): the same-second expansion is capped at
    ``per_page``, so a page of one crowded second ends with ``end_time`` at that second and
    the next request gets the same page again.
    """
    start = bisect_left(records, start_time, key=ts_of)
    stop = bisect_right(records, cutoff, key=ts_of)
    if start >= stop:
        return TimePage(items=[], end_time=start_time, end_of_stream=not stuck)
    end = min(start + per_page, stop)
    first_ts = ts_of(records[start])
    last_ts = ts_of(records[end - 1])
    if end == stop:
        end_time, at_end = last_ts, True
    elif first_ts == last_ts and capped:
        end_time, at_end = first_ts, False
    elif first_ts == last_ts:
        end = bisect_right(records, first_ts, lo=end, hi=stop, key=ts_of)
        end_time, at_end = first_ts + 1, end == stop
    else:
        end_time, at_end = last_ts, False
    items = list(records[start:end])
    if stuck:
        return TimePage(items=items, end_time=start_time, end_of_stream=False)
    return TimePage(items=items, end_time=end_time, end_of_stream=at_end)
