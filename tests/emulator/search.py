"""Zendesk search over the emulator's dataset: ``/search``, ``/search/export``, ``/search/count``.

A small but real subset of Zendesk's search syntax
(https://developer.zendesk.com/api-reference/ticketing/ticket-management/search/,
https://support.zendesk.com/hc/en-us/articles/4408886879258), enough for tests to
compute the same answer independently:

- terms are separated by spaces; ``"quoted phrases"`` stay one term; ``-term`` negates;
- ``type:ticket|user|organization|group`` (groups are a valid type with no objects here);
- tickets: ``status:``, ``priority:`` (also with ``<``, ``<=``, ``>``, ``>=`` in Zendesk's
  order: new < open < pending < hold < solved < closed, low < normal < high < urgent),
  ``ticket_type:``, ``subject:``, ``description:``; users: ``role:``; users and organizations:
  ``name:``; every kind: ``tags:`` (or ``tag:``), ``created``/``updated`` (``_at`` accepted)
  with ``:``, ``<``, ``<=``, ``>``, ``>=`` and a ``YYYY-MM-DD`` date or an ISO date-time;
- a word or phrase without a keyword matches, case-insensitively, part of the object's
  ``name``, ``subject`` or ``description``;
- ``order_by:created|updated`` and ``sort:asc|desc`` order ``/search`` results;
- positive ``key:value`` terms with the same keyword are alternatives (``status:open
  status:pending``); everything else must hold. A keyword that does not apply to a kind
  (``role:`` on a ticket) never matches it, so ``role:agent`` finds users only;
- any other ``keyword:`` is refused with 400 ``{"error": "invalid", "description": …}``.

Deleted objects are never found. ``/search`` answers offset pages of up to 100 and refuses
(422) to go past result 1000; ``/search/export`` needs ``filter[type]``, pages with cursors
ordered by ``created_at`` descending then ``id``, and its cursors expire after
``search_cursor_ttl`` seconds of Zendesk time (an hour; the emulator's clock runs
``60 / time_scale`` times faster). ``expire_search_cursors`` makes the next N cursors it is
given answer as expired, so a test can expire one deterministically.

Assumption: Zendesk's body for an expired export cursor is not recorded; the emulator answers
400 with the InvalidCursor shape it uses for other bad cursors.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import threading
import time
import zlib
from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from .dataset import Dataset, parse_iso
from .limits import RateLimiter

# Zendesk's result_type -> the dataset kind holding those objects.
RESULT_KINDS = {"ticket": "tickets", "user": "users", "organization": "organizations"}
TYPES = (*RESULT_KINDS, "group")
LIST_MAX_PER_PAGE = 100
LIST_RESULT_LIMIT = 1000
EXPORT_DEFAULT_PAGE_SIZE = 100
EXPORT_MAX_PAGE_SIZE = 1000
CURSOR_TTL_SECONDS = 3600
CONFIG_KEYS = ("search_cursor_ttl", "expire_search_cursors")

_STATUS_ORDER = ("new", "open", "pending", "hold", "solved", "closed")
_PRIORITY_ORDER = ("low", "normal", "high", "urgent")
_TOKEN = re.compile(
    r'(?P<neg>-)?(?:(?P<key>[A-Za-z_]+)(?P<op>>=|<=|:|>|<))?(?P<value>"[^"]*"|[^\s"]+)'
)
_TEXT_FIELDS = ("name", "subject", "description")
_SORT_FIELDS = {"created": "created_at", "updated": "updated_at"}
_LIMIT_ERROR = "Invalid search: Requested response size was greater than Search Response Limits"
_EXPIRED = {"error": "InvalidCursor", "description": "The cursor has expired"}
_ENCODER = json.JSONEncoder(separators=(",", ":"))

# Whether an object of a kind satisfies one term.
Check = Callable[[str, dict[str, Any]], bool]


class SearchSyntaxError(ValueError):
    """A query Zendesk answers with 400 {"error": "invalid", …}."""


@dataclass(frozen=True)
class Term:
    """One search term: ``[-]key<op>value``, or a free word when ``key`` is None."""

    key: str | None
    op: str
    value: str
    negated: bool


@dataclass(frozen=True)
class Query:
    """A parsed query: which kinds it may find, and a predicate per object."""

    kinds: tuple[str, ...]
    filters: tuple[Check, ...]
    order: tuple[str, bool]  # (field, descending)
    sorted_by_terms: bool

    def matches(self, kind: str, obj: dict[str, Any]) -> bool:
        return kind in self.kinds and all(check(kind, obj) for check in self.filters)


def parse(text: str) -> Query:
    """Parse ``text``; SearchSyntaxError says what Zendesk would."""
    terms = _terms(text)
    if not terms:
        raise SearchSyntaxError("Invalid search: query is required")
    kinds = set(RESULT_KINDS.values())
    wanted: set[str] = set()
    alternatives: dict[str, list[Check]] = {}
    filters: list[Check] = []
    order = ("created_at", True)
    sorted_by_terms = False
    for term in terms:
        if term.key is None:
            filters.append(_negate(term, _words(term.value)))
            continue
        if term.key == "type":
            if term.value not in TYPES:
                raise SearchSyntaxError(f"Invalid search: unknown type {term.value!r}")
            kind = RESULT_KINDS.get(term.value)
            if term.negated:
                kinds.discard(kind or "")
            else:
                wanted.add(kind or "groups")
            continue
        if term.key in ("order_by", "sort"):
            sorted_by_terms = True
            if term.key == "order_by":
                field = _SORT_FIELDS.get(term.value.removesuffix("_at"), "created_at")
                order = (field, order[1])
            else:
                order = (order[0], term.value != "asc")
            continue
        check = _check_of(term)
        if term.op == ":" and not term.negated:
            alternatives.setdefault(term.key, []).append(check)
        else:
            filters.append(_negate(term, check))
    for checks in alternatives.values():
        filters.append(lambda kind, obj, checks=checks: any(c(kind, obj) for c in checks))
    if wanted:
        kinds &= wanted
    ordered = tuple(kind for kind in RESULT_KINDS.values() if kind in kinds)
    return Query(ordered, tuple(filters), order, sorted_by_terms)


def _terms(text: str) -> list[Term]:
    terms = []
    position = 0
    for match in _TOKEN.finditer(text):
        if text[position : match.start()].strip():
            raise SearchSyntaxError(f"Invalid search: cannot parse {text[position:].strip()!r}")
        position = match.end()
        key = (match["key"] or "").lower() or None
        value = match["value"].lower()
        if value.startswith('"'):
            value = value[1:-1]
        terms.append(Term(key, match["op"] or ":", value, bool(match["neg"])))
    if text[position:].strip():
        raise SearchSyntaxError(f"Invalid search: cannot parse {text[position:].strip()!r}")
    return terms


def _negate(term: Term, check: Check) -> Check:
    if term.negated:
        return lambda kind, obj: not check(kind, obj)
    return check


def _words(value: str) -> Check:
    def check(kind: str, obj: dict[str, Any]) -> bool:
        return any(value in str(obj.get(field) or "").lower() for field in _TEXT_FIELDS)

    return check


def _check_of(term: Term) -> Check:
    """The predicate of one keyword term (negation is applied by the caller)."""
    key, op, value = term.key or "", term.op, term.value
    if key in ("status", "priority"):
        order = _STATUS_ORDER if key == "status" else _PRIORITY_ORDER
        if op != ":" and value not in order:
            raise SearchSyntaxError(f"Invalid search: {key}{op}{value} is not a known {key}")
        return _ranked(key, op, value, order)
    if key == "ticket_type":
        return lambda kind, obj: kind == "tickets" and (obj.get("type") or "") == value
    if key in ("subject", "description"):
        return lambda kind, obj: kind == "tickets" and value in str(obj.get(key) or "").lower()
    if key == "role":
        return lambda kind, obj: kind == "users" and obj.get("role") == value
    if key == "name":
        return lambda kind, obj: kind != "tickets" and value in str(obj.get("name") or "").lower()
    if key in ("tags", "tag"):
        return lambda kind, obj: value in (obj.get("tags") or [])
    if key.removesuffix("_at") in _SORT_FIELDS:
        return _dated(_SORT_FIELDS[key.removesuffix("_at")], op, value)
    raise SearchSyntaxError(f"Invalid search: unknown keyword {key!r}")


def _ranked(key: str, op: str, value: str, order: tuple[str, ...]) -> Check:
    def check(kind: str, obj: dict[str, Any]) -> bool:
        if kind != "tickets":
            return False
        actual = obj.get(key)
        if op == ":":
            return actual == value
        if actual not in order:
            return False
        left, right = order.index(actual), order.index(value)
        return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]

    return check


def _dated(field: str, op: str, value: str) -> Check:
    """``created>2024-01-31``: a date covers its whole UTC day, a date-time its second."""
    start, end = _interval(value)

    def check(kind: str, obj: dict[str, Any]) -> bool:
        raw = obj.get(field)
        if not raw:
            return False
        ts = parse_iso(raw)
        return {
            ":": start <= ts < end,
            ">": ts >= end,
            ">=": ts >= start,
            "<": ts < start,
            "<=": ts < end,
        }[op]

    return check


def _interval(value: str) -> tuple[int, int]:
    try:
        if len(value) == 10:
            day = dt.datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=dt.UTC)
            return int(day.timestamp()), int(day.timestamp()) + 86400
        moment = dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        raise SearchSyntaxError(f"Invalid search: {value!r} is not a date") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp()), int(moment.timestamp()) + 1


# ------------------------------------------------------------------------------ endpoints


class Search:
    """The three search endpoints over one dataset; answers are (status, JSON body bytes)."""

    def __init__(self, dataset: Dataset, limiter: RateLimiter) -> None:
        self._dataset = dataset
        self._limiter = limiter
        self._lock = threading.Lock()
        self.cursor_ttl = CURSOR_TTL_SECONDS
        self.expire_next = 0

    @property
    def config(self) -> dict[str, Any]:
        return {"search_cursor_ttl": self.cursor_ttl, "expire_search_cursors": self.expire_next}

    @staticmethod
    def check(**changes: Any) -> None:
        """Validate configure() changes before anything is applied."""
        for name, value in changes.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")

    def configure(self, **changes: Any) -> None:
        with self._lock:
            self.cursor_ttl = changes.get("search_cursor_ttl", self.cursor_ttl)
            self.expire_next = int(changes.get("expire_search_cursors", self.expire_next))

    def respond(self, style: str, url: str, params: Mapping[str, str]) -> tuple[int, bytes]:
        try:
            query = parse(params.get("query", ""))
            if style == "search_count":
                return 200, _json({"count": len(self._found(query))})
            if style == "search_export":
                return self._export(query, url, params)
            return self._list(query, url, params)
        except SearchSyntaxError as exc:
            return 400, _json({"error": "invalid", "description": str(exc)})

    def _found(self, query: Query) -> list[tuple[str, dict[str, Any]]]:
        found = [
            (kind, obj)
            for kind in query.kinds
            for obj in self._dataset.visible(kind, exclude_deleted=True)
            if query.matches(kind, obj)
        ]
        return sorted(found, key=lambda pair: (-parse_iso(pair[1]["created_at"]), pair[1]["id"]))

    def _list(self, query: Query, url: str, params: Mapping[str, str]) -> tuple[int, bytes]:
        """Offset pages; at most 1000 results are ever reachable."""
        page = _number(params.get("page"), 1, "page")
        per_page = min(_number(params.get("per_page"), LIST_MAX_PER_PAGE, "per_page"), 100)
        if page * per_page > LIST_RESULT_LIMIT:
            return 422, _json({"error": "invalid", "description": _LIMIT_ERROR})
        field, descending = query.order
        if not query.sorted_by_terms:
            # Sorting by priority, status or ticket_type is not emulated: creation order.
            wanted = params.get("sort_by", field)
            field = wanted if wanted in _SORT_FIELDS.values() else field
            descending = params.get("sort_order", "desc") != "asc"
        found = sorted(
            self._found(query),
            key=lambda pair: (
                parse_iso(pair[1].get(field) or pair[1]["created_at"]),
                -pair[1]["id"],
            ),
            reverse=descending,
        )
        start = (page - 1) * per_page
        others = {k: v for k, v in params.items() if k not in ("page", "per_page")}

        def link(number: int) -> str:
            linked = {**others, "page": str(number), "per_page": str(per_page)}
            return f"{url}?{urlencode(sorted(linked.items()))}"

        tail = {
            "facets": None,
            "next_page": link(page + 1) if start + per_page < len(found) else None,
            "previous_page": link(page - 1) if page > 1 else None,
            "count": len(found),
        }
        return 200, _results(found[start : start + per_page], tail)

    def _export(self, query: Query, url: str, params: Mapping[str, str]) -> tuple[int, bytes]:
        """Cursor pages of one type, newest first; the cursor names the query it belongs to."""
        result_type = params.get("filter[type]", "")
        if result_type not in TYPES:
            raise SearchSyntaxError(
                "Invalid search: filter[type] must be one of ticket, user, organization or group"
            )
        if query.sorted_by_terms:
            raise SearchSyntaxError("Invalid search: the export does not accept sort terms")
        size = _number(params.get("page[size]"), EXPORT_DEFAULT_PAGE_SIZE, "page[size]")
        size = min(size, EXPORT_MAX_PAGE_SIZE)
        kind = RESULT_KINDS.get(result_type)
        found = [pair for pair in self._found(query) if pair[0] == kind]
        keys = [(-parse_iso(obj["created_at"]), obj["id"]) for _, obj in found]
        signature = zlib.crc32(f"{params.get('query')}|{result_type}".encode())
        start = 0
        if params.get("page[after]"):
            position = self._position(params["page[after]"], signature)
            if position is None:
                return 400, _json(_EXPIRED)
            start = bisect_right(keys, position)
        stop = min(start + size, len(found))
        has_more = stop < len(found)
        after = _cursor(keys[stop - 1], signature, stop) if stop > start else None
        others = {k: v for k, v in params.items() if k != "page[after]"}
        next_url = None
        if has_more and after:
            next_url = f"{url}?{urlencode(sorted({**others, 'page[after]': after}.items()))}"
        tail = {
            "facets": None,
            "meta": {"has_more": has_more, "after_cursor": after, "before_cursor": None},
            "links": {"prev": None, "next": next_url},
        }
        return 200, _results(found[start:stop], tail)

    def _position(self, cursor: str, signature: int) -> tuple[int, int] | None:
        """Where a cursor points, or None if it has expired; 400 invalid if it is not ours."""
        try:
            decoded = json.loads(base64.b64decode(cursor.encode("ascii"), validate=True))
            created_ms, item_id = decoded["sortValues"]
            minted, owner = float(decoded["createdAt"]), decoded["saltedRequestHash"]
        except (binascii.Error, UnicodeError, ValueError, KeyError, TypeError):
            raise SearchSyntaxError("Invalid search: page[after] is not valid") from None
        if owner != signature:
            raise SearchSyntaxError("Invalid search: page[after] belongs to another search")
        with self._lock:
            if self.expire_next > 0:
                self.expire_next -= 1
                return None
            ttl = self.cursor_ttl
        zendesk_seconds = (time.time() - minted / 1000) * 60 / self._limiter.time_scale
        if zendesk_seconds >= ttl:
            return None
        return (-int(created_ms // 1000), int(item_id))


def _cursor(key: tuple[int, int], signature: int, exported: int) -> str:
    """Shaped like the recorded cursors: base64 JSON naming the sort and the last result."""
    created, item_id = key
    payload = {
        "field": "created_at",
        "desc": True,
        "tieBreakField": "id",
        "tieBreakDesc": False,
        "sortValues": [-created * 1000, item_id],
        "exportedThusFar": exported,
        "createdAt": int(time.time() * 1000),
        "saltedRequestHash": signature,
    }
    return base64.b64encode(_ENCODER.encode(payload).encode()).decode("ascii")


def _number(raw: str | None, default: int, name: str) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise SearchSyntaxError(f"Invalid search: {name} must be a positive integer")
    return value


def _json(payload: Any) -> bytes:
    return _ENCODER.encode(payload).encode()


def _results(found: list[tuple[str, dict[str, Any]]], tail: dict[str, Any]) -> bytes:
    kind_type = {kind: result_type for result_type, kind in RESULT_KINDS.items()}
    results = [{**obj, "result_type": kind_type[kind]} for kind, obj in found]
    return _json({"results": results, **tail})
