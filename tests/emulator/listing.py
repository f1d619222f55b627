"""Pagination of Zendesk's list endpoints: cursor pagination (CBP) and legacy offset pages.

Rules as documented (https://developer.zendesk.com/api-reference/introduction/pagination/) and
recorded (tests/fixtures/recorded_pages.json: organizations_offset_page, organizations_cbp_page,
groups_cbp_last_page, tags_offset_single_page): ``page[size]`` switches an endpoint to CBP (at most
100 per page) and ``page[after]``/``page[before]`` continue it; the envelope is
``{items, meta:{has_more, after_cursor, before_cursor}, links:{prev, next}}`` and, as recorded,
the last page still carries ``after_cursor`` and ``links.next``. Without ``page[size]`` the
endpoint answers offset pages (``page``, ``per_page`` up to 100) with
``next_page``/``previous_page``/``count`` and refuses to go deeper than 10 000 records.

Kept free of HTTP and of the dataset: callers pass entries already sorted by their key, each
with the bytes to serve, and get back a complete response body.
"""

from __future__ import annotations

import base64
import binascii
import json
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

MAX_PAGE_SIZE = 100
MAX_OFFSET_PAGE = 100
MAX_OFFSET_RECORDS = 10_000

Key = tuple[int, ...]
Entry = tuple[Key, bytes]

_ENCODER = json.JSONEncoder(separators=(",", ":"))
_PAGE_PARAMS = ("page[size]", "page[after]", "page[before]", "page", "per_page")
_DEPTH_ERROR = {
    "errors": [
        {
            "code": "InvalidPaginationDepth",
            "title": (
                "Pagination requests using Offset Pagination are limited to page 100 or up to"
                " 10000 records (page * per_page)"
            ),
            "detail": (
                "There are limits to the page depth in Offset Pagination. Offset Pagination will"
                " be deprecated fully in the near future.\nPlease switch to Cursor Pagination at"
                " the earliest. Cursor Pagination does not have any limits.\nSee"
                " https://developer.zendesk.com/documentation/api-basics/pagination/"
                "comparing-cursor-pagination-and-offset-pagination\n"
            ),
        }
    ]
}


class PaginationError(ValueError):
    """A request Zendesk answers with 400 and an ``errors`` body."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(body["errors"][0]["title"])
        self.body = body


def invalid_parameter(name: str) -> PaginationError:
    """The documented bad-cursor error (the 400 of Zendesk's OpenAPI example for a bad
    ``page[after]``, https://developer.zendesk.com/api-reference/introduction/pagination/);
    assumed for other bad paging values too."""
    return PaginationError(
        {"errors": [{"code": "InvalidPaginationParameter", "title": f"{name} is not valid"}]}
    )


def encode_list_cursor(order: str, key: Key) -> str:
    """Mint a cursor shaped like the recorded ones: base64 JSON ``{"o": order, "v": …}``."""
    packed = base64.b64encode(",".join(map(str, key)).encode("ascii")).decode("ascii")
    text = _ENCODER.encode({"o": order, "v": packed})
    return base64.b64encode(text.encode("ascii")).decode("ascii")


def decode_list_cursor(cursor: str, order: str, arity: int, name: str = "page[after]") -> Key:
    """The key a cursor points at; a cursor minted for another order or endpoint is invalid."""
    try:
        outer = json.loads(base64.b64decode(cursor.encode("ascii"), validate=True))
        if not isinstance(outer, dict) or outer.get("o") != order:
            raise ValueError(cursor)
        packed = base64.b64decode(str(outer["v"]).encode("ascii"), validate=True).decode("ascii")
        key = tuple(int(part) for part in packed.split(","))
    except (binascii.Error, UnicodeError, ValueError, KeyError, TypeError) as exc:
        raise invalid_parameter(name) from exc
    if len(key) != arity:
        raise invalid_parameter(name)
    return key


def list_page(
    entries: Sequence[Entry],
    *,
    items_key: str,
    order: str,
    url: str,
    query: Mapping[str, str],
) -> bytes:
    """The response body for ``query``: CBP when ``page[size]`` is given, else offset."""
    if "page[size]" in query:
        return cursor_page(entries, items_key=items_key, order=order, url=url, query=query)
    return offset_page(entries, items_key=items_key, url=url, query=query)


def cursor_page(
    entries: Sequence[Entry],
    *,
    items_key: str,
    order: str,
    url: str,
    query: Mapping[str, str],
) -> bytes:
    """One CBP page; ``entries`` must be sorted by key, the order the cursor names."""
    size = _positive_int(query["page[size]"], "page[size]")
    size = min(size, MAX_PAGE_SIZE)
    arity = len(entries[0][0]) if entries else order.count(",") + 1
    if query.get("page[after]"):
        after = decode_list_cursor(query["page[after]"], order, arity)
        start = bisect_right(entries, after, key=_entry_key)
        stop = min(start + size, len(entries))
        has_more = stop < len(entries)
    elif query.get("page[before]"):
        before = decode_list_cursor(query["page[before]"], order, arity, "page[before]")
        stop = bisect_left(entries, before, key=_entry_key)
        start = max(0, stop - size)
        has_more = start > 0
    else:
        start, stop = 0, min(size, len(entries))
        has_more = stop < len(entries)
    page = entries[start:stop]
    first = encode_list_cursor(order, page[0][0]) if page else None
    last = encode_list_cursor(order, page[-1][0]) if page else None
    others = _echoed(query)

    def link(param: str, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        params = {**others, param: cursor, "page[size]": str(size)}
        return f"{url}?{urlencode(sorted(params.items()))}"

    tail = {
        "meta": {"has_more": has_more, "after_cursor": last, "before_cursor": first},
        "links": {"prev": link("page[before]", first), "next": link("page[after]", last)},
    }
    return _body(items_key, [raw for _, raw in page], tail)


def offset_page(
    entries: Sequence[Entry], *, items_key: str, url: str, query: Mapping[str, str]
) -> bytes:
    """One offset page with ``next_page``/``previous_page`` as full URLs and the total count."""
    page = _positive_int(query.get("page", "1"), "page")
    per_page = min(_positive_int(query.get("per_page", str(MAX_PAGE_SIZE)), "per_page"), 100)
    if page > MAX_OFFSET_PAGE or page * per_page > MAX_OFFSET_RECORDS:
        raise PaginationError(_DEPTH_ERROR)
    start = (page - 1) * per_page
    chunk = entries[start : start + per_page]
    others = _echoed(query)
    if "per_page" in query:
        others["per_page"] = str(per_page)

    def link(number: int) -> str:
        params = {**others, "page": str(number)}
        return f"{url}?{urlencode(sorted(params.items()))}"

    tail = {
        "next_page": link(page + 1) if start + per_page < len(entries) else None,
        "previous_page": link(page - 1) if page > 1 else None,
        "count": len(entries),
    }
    return _body(items_key, [raw for _, raw in chunk], tail)


def single_page(items_key: str, raws: Sequence[bytes]) -> bytes:
    """Everything at once in the offset envelope, as unpaginated list endpoints answer."""
    tail = {"next_page": None, "previous_page": None, "count": len(raws)}
    return _body(items_key, raws, tail)


def _entry_key(entry: Entry) -> Key:
    return entry[0]


def _positive_int(raw: str, name: str) -> int:
    # Assumption: Zendesk's answer to a non-numeric or zero page value is not recorded; the
    # documented InvalidPaginationParameter shape is used for it.
    try:
        value = int(raw)
    except ValueError as exc:
        raise invalid_parameter(name) from exc
    if value < 1:
        raise invalid_parameter(name)
    return value


def _echoed(query: Mapping[str, str]) -> dict[str, str]:
    """Non-paging parameters, which Zendesk repeats in its links (e.g. include_inline_images)."""
    return {k: v for k, v in query.items() if k not in _PAGE_PARAMS}


def _body(items_key: str, raws: Sequence[bytes], tail: dict[str, Any]) -> bytes:
    # Items are already JSON: splice them in rather than decode and re-encode them.
    encoded = _ENCODER.encode(tail).encode()
    return b"".join((b'{"', items_key.encode(), b'":[', b",".join(raws), b"],", encoded[1:]))
