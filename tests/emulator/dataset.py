"""Deterministic Zendesk tickets, users and organizations, plus the mutations tests need.

Shapes follow recorded payloads (tests/fixtures/tickets.json, users.json, organizations.json and
recorded_pages.json) and the object references
(https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/,
https://developer.zendesk.com/api-reference/ticketing/users/users/,
https://developer.zendesk.com/api-reference/ticketing/organizations/organizations/); the
templates are embedded here so the emulator runs from a fresh clone.

Each object is stored once, as the compact JSON bytes that are served verbatim: a page is
assembled by joining bytes, so an export benchmark measures the client and not ``json.dumps``.
Dicts are materialised on demand (``get``, ``visible``, mutations) instead of being kept
alongside: 100k retained ticket dicts mean millions of GC-tracked containers, which doubled
generation time and made every later full collection stall the server.
"""

from __future__ import annotations

import calendar
import json
import random
import threading
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from functools import lru_cache
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from .exports import CursorPage, TimePage, select_cursor_page, select_time_page

if TYPE_CHECKING:
    from .activity import Activity

KINDS = ("tickets", "users", "organizations")
# Time-based exports of ticket activity, derived from the tickets on first use (activity.py).
ACTIVITY_KINDS = ("ticket_events", "ticket_metric_events")
PLACEHOLDER_BASE_URL = "https://emulator.invalid"
ADMIN_EMAIL = "admin@emulator.test"
SUPPORT_ADDRESS = "support@emulator.zendesk.test"

# `support_type_scope` of the ticket exports (`incremental/tickets`, `incremental/tickets/
# cursor`) and of the ticket events export: "Lists tickets by support type. Possible values are
# "all", "agent", or "ai_agent". Defaults to "agent"" (Incremental Exports reference,
# https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/,
# query parameters of those endpoints). Nothing else documents it: search,
# per-ticket reads, side-loads and the metric events export serve every ticket.
SUPPORT_TYPE_SCOPES = ("agent", "ai_agent", "all")
DEFAULT_SUPPORT_TYPE_SCOPE = "agent"
ALL_SUPPORT_TYPES = "all"
# Share of seed tickets that are AI-agent tickets: those Zendesk creates for conversations an
# AI agent or bot handled alone (support articles 9204149016346 and 10583968528538, enforced
# for every account from 4 May 2026). No documented ticket property tells them apart, so the
# served ticket is shaped like any other; only the export scope separates them.
AI_AGENT_SHARE = 0.1

# Items changed within the last minute are not exported yet: "the start_time ... can't be more
# recent than one minute ago" (https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/,
# start_time parameter).
VISIBILITY_DELAY = 60
# Mutations land this far in the past: inside the visible range yet later than seed data.
MUTATION_LAG = 90

Json = dict[str, Any]
Rand = Callable[[], float]

_ENCODER = json.JSONEncoder(separators=(",", ":"))
_ESCAPE: Callable[[str], str] = encode_basestring_ascii
_TB_RANGE = 1 << 30

# Id bases: distinct per kind so a mixed-up id is obvious, all well beyond int32.
_TICKET_BASE, _TICKET_STEP = 35_000_000_000_000, 37
_USER_BASE, _USER_STEP = 34_000_000_000_000, 53
_ORG_BASE, _ORG_STEP = 33_000_000_000_000, 71
_ID_SCHEME = {
    "tickets": (_TICKET_BASE, _TICKET_STEP),
    "users": (_USER_BASE, _USER_STEP),
    "organizations": (_ORG_BASE, _ORG_STEP),
}
_GROUP_IDS = (32_000_000_000_101, 32_000_000_000_102, 32_000_000_000_103, 32_000_000_000_104)
_BRAND_IDS = (32_000_000_000_201, 32_000_000_000_202)
_FORM_IDS = (32_000_000_000_301, 32_000_000_000_302)
_AGENT_ROLE_ID, _ADMIN_ROLE_ID = 32_000_000_000_401, 32_000_000_000_402
_CUSTOM_STATUS_IDS = {
    "new": 32_000_000_000_501,
    "open": 32_000_000_000_502,
    "pending": 32_000_000_000_503,
    "hold": 32_000_000_000_504,
    "solved": 32_000_000_000_505,
    "closed": 32_000_000_000_506,
}

# Each custom field keeps one value kind so downstream schemas stay stable; null means unset.
_TICKET_FIELDS = (
    (32_000_000_001_001, "text"),
    (32_000_000_001_002, "tagger"),
    (32_000_000_001_003, "multiselect"),
    (32_000_000_001_004, "checkbox"),
    (32_000_000_001_005, "integer"),
    (32_000_000_001_006, "decimal"),
    (32_000_000_001_007, "date"),
)

_STATUS_WEIGHTS = (
    ("new", 10),
    ("open", 24),
    ("pending", 14),
    ("hold", 5),
    ("solved", 26),
    ("closed", 18),
    ("deleted", 3),
)
_STATUSES = [s for s, w in _STATUS_WEIGHTS for _ in range(w)]
_PRIORITIES = (None, None, None, "low", "normal", "normal", "high", "urgent")
_TYPES = (None, None, None, "question", "question", "incident", "problem", "task")
_CHANNELS = ("web",) * 7 + ("email",) * 7 + ("api",) * 4 + ("voice",) * 2
_TAGS = (
    "billing",
    "refund",
    "login",
    "bug",
    "feature_request",
    "urgent",
    "vip",
    "mobile",
    "api",
    "shipping",
    "returns",
    "onboarding",
)
_OPTIONS = ("bronze", "silver", "gold", "platinum", "trial")
_FIRST = (
    "Ada",
    "Ben",
    "Chloé",
    "Dmitri",
    "Emeka",
    "Fatima",
    "Goran",
    "Hana",
    "Ines",
    "Jonas",
    "Kenji",
    "Lena",
    "Mateo",
    "Nia",
    "Oskar",
    "Priya",
)
_LAST = (
    "Nakamura",
    "Okafor",
    "Silva",
    "Schmidt",
    "Kowalski",
    "Haddad",
    "Larsen",
    "Moreau",
    "O'Brien",
    "Patel",
    "Rossi",
    "Zhang",
)
_SUBJECTS = (
    "Cannot log in to my account",
    "Refund for order",
    "Invoice shows the wrong amount",
    "App crashes on startup",
    "Question about the API rate limits",
    "Shipping delayed",
    "Feature request: dark mode",
    "Password reset email never arrives",
    "Charged twice this month",
    "Export to CSV is empty",
    "Voicemail from customer",
    "Integration stopped syncing",
)
_SENTENCES = (
    "Hello, I need some help with this.",
    "It started happening after the last update.",
    "I have attached a screenshot of the error.",
    "This is blocking our whole team.",
    "Could you please look into it as soon as possible?",
    "We tried clearing the cache but nothing changed.",
    "The issue only happens on mobile.",
    "Thanks in advance — we really appreciate the quick replies.",
    "Order number is in the subject line.",
    "Please call me back when you can.",
)
_ZONES = (
    ("America/New_York", "America/New_York"),
    ("Pacific Time (US & Canada)", "America/Los_Angeles"),
    ("London", "Europe/London"),
    ("Berlin", "Europe/Berlin"),
    ("Tokyo", "Asia/Tokyo"),
    ("International Date Line West", "Etc/GMT+12"),
)
_LOCALES = ((1, "en-US"), (1, "en-US"), (1, "en-US"), (8, "de"), (16, "fr"), (2, "es"))
_ORG_WORDS = ("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Tyrell", "Soylent")
_ORG_SUFFIX = ("Corp", "GmbH", "Ltd", "Inc", "Labs", "Group")
# How an update moves a ticket along; closed and deleted tickets keep their status.
_STATUS_FLOW = {
    "new": "open",
    "open": "pending",
    "pending": "solved",
    "hold": "open",
    "solved": "closed",
}


@lru_cache(maxsize=4096)
def _day(days: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(days * 86400))


# "THH:MM:SSZ" for every second of a day: two lookups beat strftime in the generation loop.
_CLOCK = [f"T{h:02d}:{m:02d}:{s:02d}Z" for h in range(24) for m in range(60) for s in range(60)]


def iso(ts: int) -> str:
    """Zendesk's second-precision UTC timestamp format."""
    days, second = divmod(ts, 86400)
    return _day(days) + _CLOCK[second]


def parse_iso(text: str) -> int:
    """Inverse of :func:`iso`, for tests comparing ``updated_at`` with export timestamps."""
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def encode(obj: Json) -> bytes:
    """The one canonical serialisation: compact separators, ASCII-only, key order kept."""
    return _ENCODER.encode(obj).encode()


class Record:
    """One exported object: its sort keys and the bytes served verbatim."""

    __slots__ = ("ai_agent", "deleted", "id", "raw", "tb", "ts")

    def __init__(
        self,
        item_id: int,
        ts: int,
        tb: int,
        raw: bytes,
        deleted: bool = False,
        ai_agent: bool = False,
    ) -> None:
        self.id = item_id
        self.ts = ts
        # Tie-breaker inside one second for the time-based order, which is not by id.
        self.tb = tb
        self.raw = raw
        self.deleted = deleted
        # An AI-agent ticket: exported only when support_type_scope asks for it.
        self.ai_agent = ai_agent


_cursor_key = attrgetter("ts", "id")
_time_key = attrgetter("ts", "tb", "id")
_ts_key = attrgetter("ts")


def _not_deleted(record: Record) -> bool:
    return not record.deleted


def check_scope(scope: str) -> str:
    """``scope`` if it is a support_type_scope value, else ValueError."""
    if scope not in SUPPORT_TYPE_SCOPES:
        raise ValueError(f"support_type_scope must be one of {', '.join(SUPPORT_TYPE_SCOPES)}")
    return scope


def in_scope(scope: str, ai_agent: bool) -> bool:
    """Whether a ticket of that support type is exported under ``scope``."""
    return scope == ALL_SUPPORT_TYPES or (scope == "ai_agent") == ai_agent


class Dataset:
    """Seeded objects for the three exported kinds; thread-safe for concurrent reads/mutations.

    Timestamps span about 30 days ending two hours before generation. Most seconds hold 1-3
    objects and roughly one cluster in 40 holds 12-25, so small ``per_page`` values hit the
    same-second rules of both export styles. Output is a pure function of the seed and the
    generation clock (pass a fixed ``clock`` for byte-identical datasets).
    """

    def __init__(
        self,
        tickets: int = 300,
        users: int = 80,
        organizations: int = 30,
        seed: int = 7,
        base_url: str = PLACEHOLDER_BASE_URL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if min(tickets, users, organizations) < 0:
            raise ValueError("object counts must be >= 0")
        self.seed = seed
        self.clock = clock
        self.base_url = base_url.rstrip("/")
        self.generated_at = int(clock())
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._mutation_rng = random.Random(f"mutations:{seed}")
        self._records: dict[str, dict[int, Record]] = {k: {} for k in KINDS}
        self._by_cursor: dict[str, list[Record]] = {k: [] for k in KINDS}
        self._by_time: dict[str, list[Record]] = {k: [] for k in KINDS}
        self._next_index = dict.fromkeys(KINDS, 0)
        self._last_mutation_ts = 0
        # What tickets need to know about users, kept apart so no user dicts are retained.
        self._user_info: dict[int, tuple[str, str, int | None]] = {}
        self._agents: list[int] = []
        self._end_users: list[int] = []
        self._problems: list[int] = []
        self._ai_agent_ids: set[int] = set()
        self._activity: Activity | None = None
        end = self.generated_at - 7200
        start = end - 30 * 86400
        self._window_start = start
        self._generate_organizations(organizations, start, end)
        self._generate_users(users, start, end)
        self._generate_tickets(tickets, start, end)

    # ----------------------------------------------------------------- read helpers

    def now(self) -> int:
        return int(self.clock())

    def count(self, kind: str) -> int:
        with self._lock:
            return len(self._kind(kind))

    def ids(self, kind: str) -> list[int]:
        """All ids of ``kind`` in cursor order (ts, id), including not-yet-visible ones."""
        with self._lock:
            return [r.id for r in self._by_cursor[_check(kind)]]

    def get(self, kind: str, item_id: int) -> Json:
        """A fresh copy of the object exactly as it is served; KeyError if unknown."""
        with self._lock:
            raw = self._kind(kind)[item_id].raw
        return json.loads(raw)

    def raw(self, kind: str, item_id: int) -> bytes:
        """The served bytes of one object (lets tests compare payloads byte for byte)."""
        with self._lock:
            return self._kind(kind)[item_id].raw

    def timestamp(self, kind: str, item_id: int) -> int:
        """Export timestamp: ``generated_timestamp`` for tickets, ``updated_at`` otherwise."""
        with self._lock:
            return self._kind(kind)[item_id].ts

    def ai_agent_ids(self) -> list[int]:
        """Ids of the AI-agent tickets, in id order.

        Seed tickets only: tickets created by ``mutate`` stand for agents' and API tickets.
        An update keeps a ticket's support type (escalating an AI-agent ticket, which makes it
        an agent ticket in Zendesk, is not modelled).
        """
        with self._lock:
            return sorted(self._ai_agent_ids)

    def max_ts(self, kind: str) -> int:
        with self._lock:
            ordered = self._by_cursor[_check(kind)]
            return ordered[-1].ts if ordered else 0

    def visible(
        self, kind: str, exclude_deleted: bool = False, scope: str = ALL_SUPPORT_TYPES
    ) -> list[Json]:
        """Copies of the objects an export from ``start_time=0`` returns now, cursor order.

        ``scope`` is the tickets export's support_type_scope; the default is every ticket,
        what a client asking for ``all`` gets (Zendesk's own default is ``agent``).
        """
        return [json.loads(raw) for raw in self._visible_raw(kind, exclude_deleted, scope)]

    def truth(
        self, kind: str, exclude_deleted: bool = False, scope: str = ALL_SUPPORT_TYPES
    ) -> list[tuple[int, int]]:
        """``(id, ts)`` of every visible object in cursor order: what a full sync must see.

        Also answers for the activity kinds, in their export order (``exclude_deleted`` does
        not apply: audits of deleted tickets stay in the ticket events export). ``scope``
        applies to tickets and ticket events, as support_type_scope does (default: all).
        """
        cutoff = self.now() - VISIBILITY_DELAY
        if kind in ACTIVITY_KINDS:
            with self._lock:
                return self.activity().truth(kind, cutoff, self._ticket_filter(kind, scope))
        with self._lock:
            return [
                (r.id, r.ts) for r in self._visible_records(kind, cutoff, exclude_deleted, scope)
            ]

    def _visible_raw(self, kind: str, exclude_deleted: bool, scope: str) -> list[bytes]:
        cutoff = self.now() - VISIBILITY_DELAY
        with self._lock:
            return [r.raw for r in self._visible_records(kind, cutoff, exclude_deleted, scope)]

    def _visible_records(
        self, kind: str, cutoff: int, exclude_deleted: bool, scope: str
    ) -> list[Record]:
        ordered = self._by_cursor[_check(kind)]
        stop = bisect_right(ordered, cutoff, key=_ts_key)
        keep = self._keep(kind, exclude_deleted, scope)
        return ordered[:stop] if keep is None else [r for r in ordered[:stop] if keep(r)]

    def _keep(
        self, kind: str, exclude_deleted: bool, scope: str
    ) -> Callable[[Record], bool] | None:
        """Which records of ``kind`` an export with these parameters serves (None: all)."""
        scoped = kind == "tickets" and check_scope(scope) != ALL_SUPPORT_TYPES
        if scoped and exclude_deleted:
            return lambda r: not r.deleted and in_scope(scope, r.ai_agent)
        if scoped:
            return lambda r: in_scope(scope, r.ai_agent)
        return _not_deleted if exclude_deleted else None

    def _ticket_filter(self, kind: str, scope: str) -> Callable[[int], bool] | None:
        """Which tickets' activity the ``kind`` export serves under ``scope`` (None: all).

        The metric events export is not documented to take support_type_scope: unfiltered.
        """
        if kind != "ticket_events" or check_scope(scope) == ALL_SUPPORT_TYPES:
            return None
        ai_agent = self._ai_agent_ids
        if scope == "ai_agent":
            return ai_agent.__contains__
        return lambda ticket_id: ticket_id not in ai_agent

    # ----------------------------------------------------------------- export pages

    def cursor_page(
        self,
        kind: str,
        after: tuple[int, int],
        per_page: int,
        *,
        exclude_deleted: bool = False,
        now: int | None = None,
        scope: str = ALL_SUPPORT_TYPES,
    ) -> CursorPage[bytes]:
        """Cursor-export page of serialised items after position ``after``; ``scope`` is the
        tickets export's support_type_scope (default: every ticket)."""
        cutoff = (self.now() if now is None else now) - VISIBILITY_DELAY
        keep = self._keep(kind, exclude_deleted, scope)
        with self._lock:
            page = select_cursor_page(
                self._by_cursor[_check(kind)], _cursor_key, after, per_page, cutoff, keep
            )
            raws = [r.raw for r in page.items]
        return CursorPage(items=raws, after=page.after, end_of_stream=page.end_of_stream)

    def time_page(
        self,
        kind: str,
        start_time: int,
        per_page: int,
        *,
        stuck: bool = False,
        now: int | None = None,
        include_comments: bool = False,
        capped: bool = False,
        scope: str = ALL_SUPPORT_TYPES,
    ) -> TimePage[bytes]:
        """Time-based export page of serialised items from ``start_time``.

        ``kind`` may also be an activity kind; ``include_comments`` is ticket events'
        ``include=comment_events``. ``scope`` is support_type_scope, which tickets and ticket
        events take (default: every ticket).
        """
        cutoff = (self.now() if now is None else now) - VISIBILITY_DELAY
        if kind in ACTIVITY_KINDS:
            with self._lock:
                activity = self.activity()
                tickets = self._ticket_filter(kind, scope)
                selected = activity.select(
                    kind, start_time, per_page, cutoff, stuck, capped, tickets
                )
                base = self.base_url
            # Stored activity never changes, so rendering needs no lock.
            raws = activity.render_export(kind, selected.items, base, include_comments)
            return TimePage(raws, selected.end_time, selected.end_of_stream)
        with self._lock:
            ordered = self._by_time[_check(kind)]
            keep = self._keep(kind, False, scope)
            if keep is not None:
                # Left out before paging, so a page holds per_page tickets of the scope.
                ordered = [r for r in ordered if keep(r)]
            page = select_time_page(ordered, _ts_key, start_time, per_page, cutoff, stuck, capped)
            raws = [r.raw for r in page.items]
        return TimePage(items=raws, end_time=page.end_time, end_of_stream=page.end_of_stream)

    def metric_events_cursor_page(
        self, start_time: int, after: int | None, size: int, now: int | None = None
    ) -> tuple[list[bytes], int | None, bool]:
        """Ticket metric events by cursor: the served bytes, the position of the last one
        (the next cursor), and whether more are visible."""
        cutoff = (self.now() if now is None else now) - VISIBILITY_DELAY
        with self._lock:
            activity = self.activity()
            positions, more = activity.metric_positions(start_time, after, size, cutoff)
            raws = activity.render_export(ACTIVITY_KINDS[1], positions, self.base_url, False)
        return raws, (positions[-1] if positions else after), more

    # ----------------------------------------------------------------- ticket activity

    def activity(self) -> Activity:
        """The audits, comments and metric events of every ticket, built on first use.

        Deferred because it costs several times what generating the tickets does, and a
        tickets-only benchmark must not pay for it. Built from the tickets as they are then;
        mutations keep it up to date afterwards (``mutate`` builds it first).
        """
        with self._lock:
            if self._activity is None:
                # Imported here: activity builds on this module's helpers.
                from .activity import Activity

                self._activity = Activity(
                    [r.raw for r in self._by_cursor["tickets"]],
                    seed=self.seed,
                    agents=self._agents,
                    via_for=self._via,
                )
            return self._activity

    def audits(self, ticket_id: int | None = None) -> list[Json]:
        """A ticket's audits as ``/tickets/{id}/audits`` serves them (deleted tickets too), or
        every ticket's when None, in (created_at, id) order; KeyError for an unknown ticket."""
        with self._lock:
            activity, base = self.activity(), self.base_url
            audits = activity.audits(ticket_id)
        return [json.loads(activity.audit_json(a, base)) for a in audits]

    def comments(self, ticket_id: int | None = None) -> list[Json]:
        """Comments as ``/tickets/{id}/comments`` serves them, one ticket's or all, in
        (created_at, id) order; KeyError for an unknown ticket."""
        with self._lock:
            activity, base = self.activity(), self.base_url
            audits = activity.audits(ticket_id)
        return [json.loads(text) for _, text in activity.comment_texts(audits, base)]

    def ticket_events(
        self, include_comments: bool = True, scope: str = ALL_SUPPORT_TYPES
    ) -> list[Json]:
        """The items an export of ``/incremental/ticket_events`` from 0 returns now, with
        support_type_scope ``scope`` (default: every ticket's)."""
        return self._visible_activity("ticket_events", include_comments, scope)

    def metric_events(self) -> list[Json]:
        """The items an export of ``/incremental/ticket_metric_events`` from 0 returns now."""
        return self._visible_activity("ticket_metric_events", False, ALL_SUPPORT_TYPES)

    def _visible_activity(self, kind: str, include_comments: bool, scope: str) -> list[Json]:
        cutoff = self.now() - VISIBILITY_DELAY
        with self._lock:
            activity, base = self.activity(), self.base_url
            items = activity.visible(kind, cutoff, self._ticket_filter(kind, scope))
        raws = activity.render_export(kind, items, base, include_comments)
        return [json.loads(raw) for raw in raws]

    def ticket_entries(
        self, kind: str, ticket_id: int
    ) -> list[tuple[tuple[int, int], bytes]] | None:
        """``((created_at, id), bytes)`` of a ticket's ``comments`` or ``audits``, in that
        order; None when the ticket is unknown or deleted (Zendesk answers 404 for both)."""
        with self._lock:
            record = self._records["tickets"].get(ticket_id)
            if record is None or record.deleted:
                return None
            activity, base = self.activity(), self.base_url
            return activity.ticket_entries(kind, ticket_id, base)

    def ticket_fields(self) -> list[Json]:
        """Every ticket field as ``/ticket_fields`` serves it unpaginated (position, id)."""
        from .catalog import ticket_fields

        return ticket_fields(self.base_url, self._window_start)

    def ticket_forms(self) -> list[Json]:
        """Every ticket form as ``/ticket_forms`` serves it."""
        from .catalog import ticket_forms

        return ticket_forms(self.base_url, self._window_start)

    def groups(self) -> list[Json]:
        """Every agent group as ``/groups`` serves it, in id order."""
        from .sideloads import groups

        return groups(self.base_url, self.seed, self._window_start)

    def brands(self) -> list[Json]:
        """Every brand as ``/brands`` serves it, in id order."""
        from .sideloads import brands

        return brands(self.base_url, self.seed, self._window_start)

    def metric_set(self, ticket_id: int) -> Json:
        """The ticket's metric set as ``include=metric_sets`` serves it now."""
        from .sideloads import metric_set

        return metric_set(self.get("tickets", ticket_id), self.seed, self.base_url)

    def comment_count(self, ticket_id: int) -> int:
        """How many comments the ticket has (``include=comment_count``)."""
        from .activity import COMMENT

        with self._lock:
            audits = self.activity().audits(ticket_id)
        return sum(event[0] == COMMENT for audit in audits for event in audit.events)

    # ----------------------------------------------------------------- base URL

    def rebase(self, base_url: str) -> None:
        """Point every embedded URL at ``base_url`` (the port is only known once bound).

        Byte replacement is safe because the old base is a full scheme://host[:port] that no
        generated text contains, and it is far cheaper than re-encoding everything.
        """
        new = base_url.rstrip("/")
        with self._lock:
            if new == self.base_url:
                return
            old_b, new_b = self.base_url.encode(), new.encode()
            for records in self._records.values():
                for record in records.values():
                    record.raw = record.raw.replace(old_b, new_b)
            self.base_url = new

    # ----------------------------------------------------------------- mutations

    def mutate(
        self,
        update_tickets: int = 0,
        create_tickets: int = 0,
        delete_tickets: int = 0,
        system_update_tickets: int = 0,
        privatize_comments: int = 0,
        redact_comments: int = 0,
        cut_character_tickets: int = 0,
        update_users: int = 0,
        create_users: int = 0,
        update_organizations: int = 0,
        create_organizations: int = 0,
    ) -> dict[str, Any]:
        """Apply changes at one new timestamp T; return affected ids per operation and kind.

        T = max(now - 90, latest timestamp + 1, previous T + 1): visible at once despite the
        one-minute rule, and strictly after everything already exported, so a client resuming
        from its last cursor sees exactly the changed objects. Tickets are distinct across the
        ticket operations. More than ~30 mutations within one second push T into the last
        minute, and those changes then stay hidden until the minute passes.

        Ticket activity follows at T: an update adds one audit (Change events, often a
        comment) and an ``update_status`` metric event; a creation adds its Create audit with
        the description comment and the activate/apply_sla metric events. The new ids are
        returned under ``audits``, ``comments`` and ``metric_events``. Making a comment private
        or redacting one adds an agent's audit to its ticket (which that updates) and changes
        the comment wherever it is served; the changed comments' ids are returned under
        ``privatize_comments`` and ``redact_comments``. ``cut_character_tickets`` get a subject
        ending in half an emoji, a lone UTF-16 surrogate escape (``"\\ud83d"``): valid JSON
        (RFC 8259 §8.2 allows such escapes and leaves their handling to the reader), as a
        client that cut an emoji in two would have written it.
        """
        counts = {
            "update_tickets": update_tickets,
            "create_tickets": create_tickets,
            "delete_tickets": delete_tickets,
            "system_update_tickets": system_update_tickets,
            "privatize_comments": privatize_comments,
            "redact_comments": redact_comments,
            "cut_character_tickets": cut_character_tickets,
            "update_users": update_users,
            "create_users": create_users,
            "update_organizations": update_organizations,
            "create_organizations": create_organizations,
        }
        for name, value in counts.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        rng = self._mutation_rng
        with self._lock:
            # Built before anything changes, so it starts from the pre-mutation tickets.
            activity = self.activity()
            added: dict[str, list[int]] = {"audits": [], "comments": [], "metric_events": []}
            latest = max((o[-1].ts for o in self._by_cursor.values() if o), default=0)
            ts = max(self.now() - MUTATION_LAG, latest + 1, self._last_mutation_ts + 1)
            self._last_mutation_ts = ts
            result: dict[str, Any] = {"timestamp": ts}

            live = [r for r in self._by_cursor["tickets"] if not r.deleted]
            wanted = update_tickets + delete_tickets + system_update_tickets
            wanted += cut_character_tickets
            chosen = rng.sample(live, min(wanted, len(live)))
            updated = chosen[:update_tickets]
            deleted = chosen[update_tickets : update_tickets + delete_tickets]
            system = chosen[update_tickets + delete_tickets : wanted - cut_character_tickets]
            cut = chosen[wanted - cut_character_tickets :]
            self._detach("tickets", chosen)
            for record in updated:
                before = json.loads(record.raw)
                after = self._rewrite(record, lambda t: self._update_ticket(rng, t, ts))
                _extend(added, activity.ticket_updated(before, after, ts))
            for record in deleted:
                self._rewrite(record, lambda t: _delete_ticket(t, ts))
                record.deleted = True
            for record in system:
                # A system update moves only the export timestamp: generated_timestamp is "updated
                # for all ticket updates, including system updates" (https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/).
                self._rewrite(record, lambda t: t.update(generated_timestamp=ts))
            for record in cut:
                self._rewrite(
                    record,
                    lambda t: t.update(
                        subject=f"{t['subject']} \ud83d",
                        updated_at=iso(ts),
                        generated_timestamp=ts,
                    ),
                )
            changed = self._change_comments(
                activity, chosen, ts, privatize_comments, redact_comments, result
            )
            created = [self._new_ticket(rng, ts) for _ in range(create_tickets)]
            for record in created:
                _extend(added, activity.ticket_created(record.raw, ts))
            self._attach("tickets", chosen + changed + created, ts)
            result["update_tickets"] = sorted(r.id for r in updated)
            result["create_tickets"] = sorted(r.id for r in created)
            result["delete_tickets"] = sorted(r.id for r in deleted)
            result["system_update_tickets"] = sorted(r.id for r in system)
            result["cut_character_tickets"] = sorted(r.id for r in cut)
            added["audits"].extend(result.pop("_comment_audits"))

            users = self._sample("users", update_users)
            self._detach("users", users)
            for record in users:
                self._rewrite(record, lambda u: _update_user(rng, u, ts))
            new_users = [self._new_user(rng, ts) for _ in range(create_users)]
            self._attach("users", users + new_users, ts)
            result["update_users"] = sorted(r.id for r in users)
            result["create_users"] = sorted(r.id for r in new_users)

            orgs = self._sample("organizations", update_organizations)
            self._detach("organizations", orgs)
            for record in orgs:
                self._rewrite(record, lambda o: _update_org(rng, o, ts))
            new_orgs = [self._new_org(rng, ts) for _ in range(create_organizations)]
            self._attach("organizations", orgs + new_orgs, ts)
            result["update_organizations"] = sorted(r.id for r in orgs)
            result["create_organizations"] = sorted(r.id for r in new_orgs)
            # Deletions and system updates add no activity: no audit is recorded for them
            # (https://developer.zendesk.com/api-reference/ticketing/tickets/ticket_audits/).
            result.update({key: sorted(ids) for key, ids in added.items()})

        for kind in KINDS:
            ops = [key for key in [*counts, "comment_change_tickets"] if key.endswith(kind)]
            result[kind] = sorted({i for key in ops for i in result[key]})
        return result

    def _change_comments(
        self,
        activity: Activity,
        taken: list[Record],
        ts: int,
        privatize: int,
        redact: int,
        result: dict[str, Any],
    ) -> list[Record]:
        """Make ``privatize`` comments private and redact ``redact``, each on its own live ticket
        not otherwise changed; those tickets, detached and updated at ``ts``."""
        busy = {r.id for r in taken}
        pool = [r for r in self._by_cursor["tickets"] if not r.deleted and r.id not in busy]
        self._mutation_rng.shuffle(pool)
        changed: list[Record] = []
        result["_comment_audits"] = []
        for key, count, is_redaction in (
            ("privatize_comments", privatize, False),
            ("redact_comments", redact, True),
        ):
            ids = []
            while len(ids) < count and pool:
                record = pool.pop()
                comment = activity.comment_changed(record.id, ts, redact=is_redaction)
                if comment is None:
                    continue
                ids.append(comment)
                result["_comment_audits"].append(activity.audits(record.id)[-1].id)
                self._detach("tickets", [record])
                self._rewrite(
                    record, lambda t: t.update(updated_at=iso(ts), generated_timestamp=ts)
                )
                changed.append(record)
            result[key] = sorted(ids)
        result["comment_change_tickets"] = sorted(r.id for r in changed)
        return changed

    def _sample(self, kind: str, k: int) -> list[Record]:
        pool = self._by_cursor[kind]
        return self._mutation_rng.sample(pool, min(k, len(pool)))

    @staticmethod
    def _rewrite(record: Record, change: Callable[[Json], object]) -> Json:
        obj = json.loads(record.raw)
        change(obj)
        record.raw = encode(obj)
        return obj

    def _detach(self, kind: str, records: list[Record]) -> None:
        """Remove records from both orders before their timestamps change."""
        by_cursor, by_time = self._by_cursor[kind], self._by_time[kind]
        for record in records:
            del by_cursor[bisect_left(by_cursor, (record.ts, record.id), key=_cursor_key)]
            del by_time[bisect_left(by_time, (record.ts, record.tb, record.id), key=_time_key)]

    def _attach(self, kind: str, records: list[Record], ts: int) -> None:
        """Re-insert at the tail: ``ts`` is later than anything stored, so order holds."""
        for record in records:
            record.ts = ts
            record.tb = self._mutation_rng.getrandbits(30)
            self._records[kind][record.id] = record
        self._by_cursor[kind].extend(sorted(records, key=_cursor_key))
        self._by_time[kind].extend(sorted(records, key=_time_key))

    def _update_ticket(self, rng: random.Random, ticket: Json, ts: int) -> None:
        status = _STATUS_FLOW.get(ticket["status"], ticket["status"])
        ticket["status"] = status
        ticket["custom_status_id"] = _CUSTOM_STATUS_IDS.get(status, ticket["custom_status_id"])
        if ticket["assignee_id"] is None and self._agents:
            ticket["assignee_id"] = rng.choice(self._agents)
            ticket["group_id"] = rng.choice(_GROUP_IDS)
        ticket["priority"] = rng.choice(_PRIORITIES[3:])
        ticket["tags"] = sorted({*ticket["tags"], "updated"})
        ticket["updated_at"] = iso(ts)
        ticket["generated_timestamp"] = ts

    # ----------------------------------------------------------------- generation

    def _kind(self, kind: str) -> dict[int, Record]:
        return self._records[_check(kind)]

    def _new_id(self, kind: str) -> int:
        base, step = _ID_SCHEME[kind]
        index = self._next_index[kind]
        self._next_index[kind] = index + 1
        return base + index * step

    def _seed_ids(self, kind: str, n: int) -> list[int]:
        """Ids roughly in time order but shuffled in small blocks, as on a real account."""
        ids = [self._new_id(kind) for _ in range(n)]
        rng = self._rng
        for block in range(0, n, 16):
            chunk = ids[block : block + 16]
            rng.shuffle(chunk)
            ids[block : block + 16] = chunk
        return ids

    def _store(self, kind: str, records: list[Record]) -> None:
        self._records[kind] = {r.id: r for r in records}
        self._by_cursor[kind] = sorted(records, key=_cursor_key)
        self._by_time[kind] = sorted(records, key=_time_key)

    def _generate_organizations(self, n: int, start: int, end: int) -> None:
        rng = self._rng
        stamps = _cluster_timestamps(rng, n, start, end)
        records = []
        for oid, ts in zip(self._seed_ids("organizations", n), stamps, strict=True):
            obj = self._org_obj(rng, oid, ts - rng.randint(0, 400 * 86400), ts)
            records.append(Record(oid, ts, rng.getrandbits(30), encode(obj)))
        self._store("organizations", records)

    def _generate_users(self, n: int, start: int, end: int) -> None:
        rng = self._rng
        stamps = _cluster_timestamps(rng, n, start, end)
        records = []
        for index, (uid, ts) in enumerate(zip(self._seed_ids("users", n), stamps, strict=True)):
            # The first user is the admin whose credentials the emulator accepts.
            role = "admin" if index == 0 else _pick_role(rng)
            created = ts - rng.randint(0, 300 * 86400)
            obj = self._user_obj(rng, uid, created, ts, role, ADMIN_EMAIL if index == 0 else None)
            records.append(Record(uid, ts, rng.getrandbits(30), encode(obj)))
        self._store("users", records)

    def _generate_tickets(self, n: int, start: int, end: int) -> None:
        # The hot path for 100k-ticket datasets: draws call ``random()`` directly and nested
        # values come pre-encoded from pools (see _ticket_json).
        rng = self._rng
        rnd = rng.random
        self._build_pools(rng)
        stamps = _cluster_timestamps(rng, n, start, end)
        # A stream of its own, so the tickets themselves are what they were before AI-agent
        # tickets existed here.
        ai_draw = random.Random(f"ai-agent:{self.seed}").random
        records = []
        append = records.append
        for tid, gts in zip(self._seed_ids("tickets", n), stamps, strict=True):
            updated = gts - 1 - int(rnd() * 120) if rnd() < 0.4 else gts
            created = updated if rnd() < 0.25 else updated - 60 - int(rnd() * 40 * 86400)
            status = _STATUSES[int(rnd() * len(_STATUSES))]
            raw = self._ticket_json(rnd, tid, created, updated, gts, status)
            ai_agent = ai_draw() < AI_AGENT_SHARE
            if ai_agent:
                self._ai_agent_ids.add(tid)
            append(Record(tid, gts, int(rnd() * _TB_RANGE), raw, status == "deleted", ai_agent))
        self._store("tickets", records)

    def _new_ticket(self, rng: random.Random, ts: int) -> Record:
        tid = self._new_id("tickets")
        return Record(tid, ts, 0, self._ticket_json(rng.random, tid, ts, ts, ts, "new"))

    def _new_user(self, rng: random.Random, ts: int) -> Record:
        uid = self._new_id("users")
        return Record(uid, ts, 0, encode(self._user_obj(rng, uid, ts, ts, "end-user", None)))

    def _new_org(self, rng: random.Random, ts: int) -> Record:
        oid = self._new_id("organizations")
        return Record(oid, ts, 0, encode(self._org_obj(rng, oid, ts, ts)))

    # ----------------------------------------------------------------- templates

    def _build_pools(self, rng: random.Random) -> None:
        """Pre-encoded nested values that tickets draw from."""
        self._field_pool = []
        for _ in range(512):
            custom = [{"id": fid, "value": _field_value(rng, k)} for fid, k in _TICKET_FIELDS]
            self._field_pool.append(_ENCODER.encode(custom))
        self._tag_pool = [
            _ENCODER.encode(sorted(rng.sample(_TAGS, rng.choice((0, 1, 1, 2, 3)))))
            for _ in range(128)
        ]
        self._desc_pool = [
            _ESCAPE(" ".join(rng.sample(_SENTENCES, rng.randint(1, 5)))) for _ in range(64)
        ]
        self._via_cache: dict[tuple[str, int | None], str] = {}

    def _via(self, channel: str, requester: int | None) -> str:
        """Encoded ``via``; email and voice derive from the requester, so cache per requester."""
        key = (channel, requester if channel in ("email", "voice") else None)
        cached = self._via_cache.get(key)
        if cached is not None:
            return cached
        info = self._user_info.get(requester) if requester is not None else None
        source: Json = {"from": {}, "to": {}, "rel": None}
        if channel == "email" and info is not None:
            source = {
                "from": {"address": info[1], "name": info[0]},
                "to": {"name": "Emulator Support", "address": SUPPORT_ADDRESS},
                "rel": None,
            }
        elif channel == "voice":
            digits = f"{(requester or 0) * 7919 % 10_000_000:07d}"
            source = {
                "from": {
                    "formatted_phone": f"+1 (555) {digits[:3]}-{digits[3:]}",
                    "phone": f"+1555{digits}",
                    "name": info[0] if info is not None else "Caller",
                },
                "to": {
                    "formatted_phone": "+1 (555) 010-0000",
                    "phone": "+15550100000",
                    "name": "Support line",
                },
                "rel": "voicemail",
            }
        cached = _ENCODER.encode({"channel": channel, "source": source})
        self._via_cache[key] = cached
        return cached

    def _ticket_json(
        self, rnd: Rand, tid: int, created: int, updated: int, gts: int, status: str
    ) -> bytes:
        """Encode a ticket straight from its parts, exactly as ``encode`` would encode it.

        Building a dict and running the generic encoder costs ~4x more; a test checks that
        re-encoding the parsed bytes reproduces them, so mutations (which use ``encode``)
        never reformat untouched fields.
        """
        people = self._end_users or self._agents
        requester = people[int(rnd() * len(people))] if people else None
        agents = self._agents
        agent = agents[int(rnd() * len(agents))] if agents else None
        org = self._user_info[requester][2] if requester is not None else None
        channel = _CHANNELS[int(rnd() * len(_CHANNELS))]
        ticket_type = _TYPES[int(rnd() * len(_TYPES))]
        subject = _SUBJECTS[int(rnd() * len(_SUBJECTS))]
        if rnd() < 0.5:
            subject = f"{subject} #{1000 + int(rnd() * 99000)}"
        description = self._desc_pool[int(rnd() * len(self._desc_pool))]
        subject = _ESCAPE(subject)
        if status == "deleted":
            # Scrubbed as recorded (tests/fixtures/tickets.json, a deleted ticket of the export).
            subject, description = '"SCRUBBED"', '"X"'
        assignee = None if status == "new" or rnd() < 0.15 else agent
        submitter = requester if rnd() < 0.8 or agent is None else agent
        group = _GROUP_IDS[int(rnd() * len(_GROUP_IDS))] if assignee is not None else None
        collab = cc = first = ""
        picks = int(rnd() * 3) if people else 0
        if picks:
            chosen = sorted({people[int(rnd() * len(people))] for _ in range(picks)})
            collab = ",".join(map(str, chosen))
            first = str(chosen[0])
            if channel == "email" and len(chosen) > 1:
                cc = ",".join(map(str, chosen[1:]))
        problem = None
        if ticket_type == "incident" and self._problems and rnd() < 0.6:
            problem = self._problems[int(rnd() * len(self._problems))]
        if ticket_type == "problem":
            self._problems.append(tid)
        fields = self._field_pool[int(rnd() * len(self._field_pool))]
        tags = self._tag_pool[int(rnd() * len(self._tag_pool))]
        external = f'"ext-{tid % 1_000_000:06d}"' if rnd() < 0.1 else "null"
        due = (
            f'"{iso(created + 86400 + int(rnd() * 14 * 86400))}"'
            if ticket_type == "task"
            else "null"
        )
        has_incidents = "true" if ticket_type == "problem" and rnd() < 0.5 else "false"
        public = "true" if rnd() < 0.95 else "false"
        priority = _PRIORITIES[int(rnd() * len(_PRIORITIES))]
        rating = _rating_json(rnd, tid, status)
        form = _FORM_IDS[int(rnd() * len(_FORM_IDS))]
        brand = _BRAND_IDS[int(rnd() * len(_BRAND_IDS))]
        messaging = "true" if rnd() < 0.02 else "false"
        status_id = _CUSTOM_STATUS_IDS.get(status, _CUSTOM_STATUS_IDS["new"])
        return (
            f'{{"url":"{self.base_url}/api/v2/tickets/{tid}.json","id":{tid},'
            f'"external_id":{external},"via":{self._via(channel, requester)},'
            f'"created_at":"{iso(created)}","updated_at":"{iso(updated)}",'
            f'"type":{_js(ticket_type)},"subject":{subject},"raw_subject":{subject},'
            f'"description":{description},"priority":{_js(priority)},"status":"{status}",'
            f'"recipient":{_js(SUPPORT_ADDRESS if channel == "email" else None)},'
            f'"requester_id":{"null" if requester is None else requester},'
            f'"submitter_id":{"null" if submitter is None else submitter},'
            f'"assignee_id":{"null" if assignee is None else assignee},'
            f'"organization_id":{"null" if org is None else org},'
            f'"group_id":{"null" if group is None else group},"collaborator_ids":[{collab}],'
            f'"follower_ids":[{first}],"email_cc_ids":[{cc}],'
            f'"forum_topic_id":null,"problem_id":{"null" if problem is None else problem},'
            f'"has_incidents":{has_incidents},"is_public":{public},"due_at":{due},'
            f'"tags":{tags},"custom_fields":{fields},"satisfaction_rating":{rating},'
            f'"sharing_agreement_ids":[],"custom_status_id":{status_id},"fields":{fields},'
            f'"followup_ids":[],"ticket_form_id":{form},"brand_id":{brand},'
            f'"allow_channelback":false,"allow_attachments":true,'
            f'"from_messaging_channel":{messaging},"generated_timestamp":{gts}}}'
        ).encode()

    def _user_obj(
        self,
        rng: random.Random,
        uid: int,
        created: int,
        updated: int,
        role: str,
        email: str | None,
    ) -> Json:
        from .catalog import user_field_values  # catalog imports this module

        index = (uid - _USER_BASE) // _USER_STEP
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        name = f"{first} {last}"
        if email is None:
            local = f"{first}.{last}".lower().replace("'", "").replace("é", "e")
            email = f"{local}.{index}@example.com"
        zone, iana = rng.choice(_ZONES)
        locale_id, locale = rng.choice(_LOCALES)
        orgs = self._by_cursor["organizations"]
        org = rng.choice(orgs).id if orgs and rng.random() < 0.7 else None
        staff = role != "end-user"
        phone = f"+1555{rng.randrange(10_000_000):07d}" if rng.random() < 0.3 else None
        self._user_info[uid] = (name, email, org)
        (self._agents if staff else self._end_users).append(uid)
        return {
            "id": uid,
            "url": f"{self.base_url}/api/v2/users/{uid}.json",
            "name": name,
            "email": email,
            "created_at": iso(created),
            "updated_at": iso(updated),
            "time_zone": zone,
            "iana_time_zone": iana,
            "phone": phone,
            "shared_phone_number": False if phone else None,
            "photo": self._photo(rng, uid) if rng.random() < 0.15 else None,
            "locale_id": locale_id,
            "locale": locale,
            "organization_id": org,
            "role": role,
            "verified": staff or rng.random() < 0.6,
            "external_id": f"crm-{index:06d}" if rng.random() < 0.2 else None,
            "tags": sorted(rng.sample(_TAGS, rng.choice((0, 0, 1, 2)))),
            "alias": rng.choice((None, None, "")),
            "active": rng.random() < 0.97,
            "shared": False,
            "shared_agent": False,
            "last_login_at": iso(updated - rng.randint(0, 86400)) if staff else None,
            "two_factor_auth_enabled": rng.choice((None, False, True)) if staff else None,
            "signature": f"Best regards, {first}" if staff else None,
            "details": rng.choice((None, "")),
            "notes": rng.choice((None, "")),
            "role_type": {"admin": 4, "agent": 0}.get(role),
            "custom_role_id": {"admin": _ADMIN_ROLE_ID, "agent": _AGENT_ROLE_ID}.get(role),
            "moderator": role == "admin",
            "ticket_restriction": {"end-user": "requested", "agent": "assigned"}.get(role),
            "only_private_comments": False,
            "restricted_agent": role != "admin",
            "suspended": rng.random() < 0.01,
            "default_group_id": rng.choice(_GROUP_IDS) if staff else None,
            "report_csv": role == "admin",
            "user_fields": {
                "plan_tier": rng.choice(_OPTIONS) if rng.random() < 0.6 else None,
                "lifetime_value": round(rng.uniform(0, 20_000), 2) if rng.random() < 0.5 else None,
                "vip": rng.random() < 0.1,
                "seats": rng.randint(1, 500) if rng.random() < 0.5 else None,
                # The other user fields, from a random stream of the user's own.
                **user_field_values(uid, index, self.seed, self._agents),
            },
        }

    def _photo(self, rng: random.Random, uid: int) -> Json:
        """The recorded photo attachment shape, one 32px thumbnail included."""
        pid, thumb_id = uid + 1, uid + 2
        stem = f"profile_image_{uid}_{rng.randint(10_000_000, 99_999_999)}"
        base = f"{self.base_url}/system/photos/{pid}/{stem}"

        def attachment(aid: int, suffix: str, size: int, px: int) -> Json:
            return {
                "url": f"{self.base_url}/api/v2/attachments/{aid}.json",
                "id": aid,
                "file_name": f"{stem}{suffix}.png",
                "content_url": f"{base}{suffix}.png",
                "mapped_content_url": f"{base}{suffix}.png",
                "content_type": "image/png",
                "size": size,
                "width": px,
                "height": px,
                "inline": False,
                "deleted": False,
            }

        photo = attachment(pid, "", rng.randint(4000, 40000), 80)
        photo["thumbnails"] = [attachment(thumb_id, "_thumb", rng.randint(800, 4000), 32)]
        return photo

    def _org_obj(self, rng: random.Random, oid: int, created: int, updated: int) -> Json:
        from .catalog import organization_field_values  # catalog imports this module

        index = (oid - _ORG_BASE) // _ORG_STEP
        word = rng.choice(_ORG_WORDS)
        value = round(rng.uniform(1000, 90_000), 2) if rng.random() < 0.5 else None
        return {
            "url": f"{self.base_url}/api/v2/organizations/{oid}.json",
            "id": oid,
            "name": f"{word} {rng.choice(_ORG_SUFFIX)} {index}",
            "shared_tickets": rng.random() < 0.2,
            "shared_comments": rng.random() < 0.1,
            "external_id": f"ORG-{index:05d}" if rng.random() < 0.3 else None,
            "created_at": iso(created),
            "updated_at": iso(updated),
            "domain_names": [f"{word.lower()}{index}.example.com"] if rng.random() < 0.7 else [],
            "details": rng.choice(("", "", "Key account")),
            "notes": "",
            "group_id": rng.choice(_GROUP_IDS) if rng.random() < 0.3 else None,
            "tags": sorted(rng.sample(_TAGS, rng.choice((0, 1, 2)))),
            "organization_fields": {
                "region": rng.choice(("emea", "amer", "apac")) if rng.random() < 0.8 else None,
                "tier": rng.choice(_OPTIONS) if rng.random() < 0.6 else None,
                "priority_support": rng.random() < 0.2,
                "contract_value": value,
                **organization_field_values(oid, index, self.seed, _ORG_BASE, _ORG_STEP),
            },
            "deleted_at": iso(updated) if rng.random() < 0.02 else None,
        }


def _extend(into: dict[str, list[int]], ids: dict[str, list[int]]) -> None:
    for key, values in ids.items():
        into[key].extend(values)


def _check(kind: str) -> str:
    if kind not in KINDS:
        raise KeyError(f"unknown kind {kind!r}; expected one of {KINDS}")
    return kind


def _js(value: str | None) -> str:
    return "null" if value is None else _ESCAPE(value)


def _delete_ticket(ticket: Json, ts: int) -> None:
    """Deleted tickets stay in the export with status "deleted" and scrubbed text, as recorded
    (tests/fixtures/tickets.json)."""
    ticket["status"] = "deleted"
    ticket["subject"] = "SCRUBBED"
    ticket["raw_subject"] = "SCRUBBED"
    ticket["description"] = "X"
    ticket["updated_at"] = iso(ts)
    ticket["generated_timestamp"] = ts


def _update_user(rng: random.Random, user: Json, ts: int) -> None:
    user["tags"] = sorted({*user["tags"], "updated"})
    user["user_fields"]["seats"] = rng.randint(1, 500)
    user["updated_at"] = iso(ts)


def _update_org(rng: random.Random, org: Json, ts: int) -> None:
    org["notes"] = f"Reviewed {iso(ts)}"
    org["organization_fields"]["priority_support"] = rng.random() < 0.5
    org["updated_at"] = iso(ts)


def _pick_role(rng: random.Random) -> str:
    roll = rng.random()
    return "end-user" if roll < 0.85 else "agent" if roll < 0.97 else "admin"


def _field_value(rng: random.Random, kind: str) -> Any:
    if kind == "checkbox":
        return rng.random() < 0.3
    if rng.random() < 0.35:
        return None
    if kind == "text":
        return rng.choice(_SENTENCES)
    if kind == "tagger":
        return rng.choice(_OPTIONS)
    if kind == "multiselect":
        return sorted(rng.sample(_OPTIONS, rng.randint(1, 3)))
    if kind == "integer":
        return rng.randint(0, 10_000)
    if kind == "decimal":
        return round(rng.uniform(0, 5000), 2)
    return time.strftime("%Y-%m-%d", time.gmtime(rng.randint(1_600_000_000, 1_800_000_000)))


def _rating_json(rnd: Rand, tid: int, status: str) -> str:
    """null, offered, or a scored rating (only solved/closed tickets get scored)."""
    roll = rnd()
    if status in ("solved", "closed") and roll < 0.4:
        if rnd() < 0.75:
            return f'{{"id":{tid + 11},"score":"good","comment":"Great support!"}}'
        return f'{{"id":{tid + 11},"score":"bad","comment":"Took too long."}}'
    if roll < 0.55:
        return '{"score":"offered"}'
    return "null"


def _cluster_timestamps(rng: random.Random, n: int, start: int, end: int) -> list[int]:
    """``n`` ascending timestamps in same-second clusters, at most one cluster per second."""
    sizes: list[int] = []
    total = 0
    while total < n:
        # A fixed share of big clusters guarantees even tiny datasets contain one.
        big = len(sizes) % 40 == 5 or rng.random() < 0.005
        size = rng.randint(12, 25) if big else rng.choice((1, 1, 1, 2, 2, 3))
        size = min(size, n - total)
        sizes.append(size)
        total += size
    span = max(end - start, len(sizes))
    seconds = sorted(rng.sample(range(span), len(sizes)))
    stamps: list[int] = []
    for second, size in zip(seconds, sizes, strict=True):
        stamps.extend([end - span + second] * size)
    return stamps
