"""The account's lists beside the exports: memberships, tags, business rules, SLA policies,
schedules, custom statuses, satisfaction ratings and deleted tickets.

Every list is built from the seed and the tickets, users and organizations as they are when
it is asked for (ratings once, then kept, so ``rate`` can add to them), so ids join across
endpoints: memberships name real agents, groups and organizations; tags count the tickets'
tags; ratings are the scored ``satisfaction_rating`` of tickets (same ids); deleted tickets
are the tickets the export shows as deleted; the business rules (rules.py) name real groups,
fields, notification triggers and SLA policies; custom statuses are every
``custom_status_id`` tickets use. Nothing is built before a list is first asked for, so
starting the emulator costs nothing.

Paging is Zendesk's per endpoint: cursor pagination with ``page[size]``, else offset pages,
for every list except SLA policies (one offset-style page), schedules and custom statuses
(everything at once, no paging keys).

Satisfaction ratings (https://developer.zendesk.com/api-reference/ticketing/ticket-management/
satisfaction_ratings/, "List Satisfaction Ratings") are changed in place: a rating is offered,
then scored, commented or re-scored later under the same id, so ``updated_at`` moves and
``created_at`` stays; the reference's list example has rating 120447 created
2012-02-01T04:31:29Z and updated 2012-02-02T10:32:59Z. The list takes ``start_time`` and
``end_time`` ("Time of the oldest/most recent satisfaction rating", Unix seconds) and a
``score`` filter, and pages by cursor or offset. Which timestamp the time filters compare is
not documented, so ``ratings_filter_on`` chooses: ``created_at`` (the default) or
``updated_at``, both inclusive. The reference also says its endpoints are for the *legacy*
CSAT and that an account runs only one CSAT at a time; it does not say how the endpoint
answers an account on the new CSAT (survey responses). ``csat = "new"`` serves our reading
of "gets nothing from it": 200 with an empty list.

Test hooks: ``page_limit`` lowers the page size the cursor lists honour, so a short list spans
several pages (Zendesk may return fewer items than asked; clients follow ``has_more``);
``requests`` keeps every query, to check what a client asked for; ``rate`` adds ratings and
``rescore`` changes existing ones; ``ratings_filter_on`` and ``csat`` as above.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING

from .catalog import _Maker
from .dataset import (
    _GROUP_IDS,
    _SUBJECTS,
    _USER_BASE,
    _USER_STEP,
    MUTATION_LAG,
    Json,
    encode,
    iso,
    parse_iso,
)
from .listing import MAX_PAGE_SIZE, PaginationError, list_page
from .rules import Rules

if TYPE_CHECKING:
    from .dataset import Dataset

# Path (without ".json") -> kind, which is also the response's items key.
ROUTES = {
    "/api/v2/group_memberships": "group_memberships",
    "/api/v2/organization_memberships": "organization_memberships",
    "/api/v2/tags": "tags",
    "/api/v2/macros": "macros",
    "/api/v2/views": "views",
    "/api/v2/triggers": "triggers",
    "/api/v2/automations": "automations",
    "/api/v2/slas/policies": "sla_policies",
    "/api/v2/business_hours/schedules": "schedules",
    "/api/v2/custom_statuses": "custom_statuses",
    "/api/v2/satisfaction_ratings": "satisfaction_ratings",
    "/api/v2/deleted_tickets": "deleted_tickets",
}
# Answered whole: sla_policies in the offset envelope, the other two as a bare list.
UNPAGED = ("sla_policies", "schedules", "custom_statuses")

_GROUP_MEMBERSHIP_BASE = 42_000_000_000_000
_ORG_MEMBERSHIP_BASE = 43_000_000_000_000
_RATING_BASE = 44_000_000_000_000
# What the ratings' start_time/end_time may compare, the emulator's default first.
RATING_FILTER_FIELDS = ("created_at", "updated_at")
# Which CSAT the account runs: the legacy one this endpoint serves, or the new survey responses.
CSAT_MODES = ("legacy", "new")
_REASON_BASE = 32_000_000_014_001
_PREVIOUS_STATES = ("new", "open", "open", "pending", "hold", "solved")
_GOOD = ("Great support!", "Quick and friendly.", "", "Solved my problem, thanks.")
_BAD = ("Took too long.", "Nobody answered my question.", "")
# Satisfaction reasons (ids and texts) a bad rating may give.
_REASONS = (
    "The issue took too long to resolve",
    "The issue was not resolved",
    "The agent's knowledge is unsatisfactory",
    "The agent's attitude is unsatisfactory",
)


class AccountLists:
    """The lists of :data:`ROUTES` for one dataset; thread-safe."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.page_limit = MAX_PAGE_SIZE
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._ratings: list[Json] | None = None
        self._rng = random.Random(f"ratings:{dataset.seed}")
        # The field start_time/end_time compare (see the module docstring): undocumented.
        self.ratings_filter_on: str = RATING_FILTER_FIELDS[0]
        # "legacy": ratings are served; "new": the account runs the new CSAT (survey responses).
        self.csat: str = CSAT_MODES[0]

    # ----------------------------------------------------------------- serving

    def respond(self, kind: str, url: str, query: Mapping[str, str]) -> tuple[int, bytes]:
        """Status and body of one GET of ``kind``'s list."""
        with self._lock:
            self.requests.append((kind, dict(query)))
        if kind in UNPAGED:
            items = [encode(o) for o in self.objects(kind)]
            if kind == "sla_policies":
                tail = b',"next_page":null,"previous_page":null,"count":%d}' % len(items)
            else:
                tail = b"}"
            return 200, b'{"' + kind.encode() + b'":[' + b",".join(items) + b"]" + tail
        objects = self.objects(kind)
        if kind == "satisfaction_ratings":
            if self.ratings_filter_on not in RATING_FILTER_FIELDS or self.csat not in CSAT_MODES:
                raise ValueError(f"bad ratings switch: {self.ratings_filter_on!r}, {self.csat!r}")
            if self.csat == "new":
                objects = []
            try:
                objects = _between(objects, query, self.ratings_filter_on)
            except ValueError as exc:
                return 400, encode({"error": "InvalidValue", "description": str(exc)})
        order, key = _ORDERS[kind]
        entries = [(key(o), encode(o)) for o in objects]
        try:
            body = list_page(entries, items_key=kind, order=order, url=url, query=self._cap(query))
        except PaginationError as exc:
            return 400, encode(exc.body)
        return 200, body

    def _cap(self, query: Mapping[str, str]) -> Mapping[str, str]:
        size = query.get("page[size]", "")
        if size.isdigit() and int(size) > self.page_limit:
            return {**query, "page[size]": str(self.page_limit)}
        return query

    # ----------------------------------------------------------------- ground truth

    def objects(self, kind: str) -> list[Json]:
        """Every object of ``kind`` as served, in the endpoint's order, unfiltered."""
        if kind == "satisfaction_ratings":
            with self._lock:
                objects = [dict(o) for o in self._all_ratings()]
        else:
            objects = _BUILDERS[kind](_Account(self.dataset))
        if kind in _ORDERS:
            objects.sort(key=_ORDERS[kind][1])
        return objects

    def rate(self, count: int, at: int | None = None) -> list[int]:
        """Add ``count`` new ratings of solved tickets, created and scored at second ``at`` (by
        default a fresh second after every rating); returns their ids.

        Both timestamps are ``at``, as in the reference's first list example (rating 35436),
        a rating given in one step.
        """
        dataset = self.dataset
        solved = [
            t
            for t in (dataset.get("tickets", i) for i in dataset.ids("tickets"))
            if t["status"] in ("solved", "closed")
        ]
        with self._lock:
            ratings = self._all_ratings()
            ts = self._fresh_second(ratings) if at is None else at
            added = []
            for ticket in self._rng.sample(solved, min(count, len(solved))):
                rid = _RATING_BASE + len(ratings)
                score = "good" if self._rng.random() < 0.7 else "bad"
                ratings.append(_rating(dataset.base_url, rid, ticket, score, self._rng, ts))
                added.append(rid)
        return added

    def rescore(self, count: int, at: int | None = None) -> list[int]:
        """Change ``count`` existing ratings in place at second ``at`` (by default a fresh
        second after every rating): the score flips, the comment (and for a bad score the
        reason) is new, ``updated_at`` becomes ``at`` and ``created_at`` stays; returns their
        ids, oldest created first.

        The oldest ratings are the ones chosen, so a client filtering on ``created_at`` from
        a later bookmark cannot find them. The tickets keep their ``satisfaction_rating``: the
        emulator does not record the change as a ticket update.
        """
        with self._lock:
            ratings = self._all_ratings()
            ts = self._fresh_second(ratings) if at is None else at
            oldest = sorted(ratings, key=_by_created)[:count]
            for rating in oldest:
                score = "bad" if rating["score"] == "good" else "good"
                rating.pop("reason", None)
                rating.pop("reason_id", None)
                rating.update(_scored(score, self._rng), updated_at=iso(ts))
        return [r["id"] for r in oldest]

    def _fresh_second(self, ratings: list[Json]) -> int:
        """Now (less the emulator's mutation lag), and after every rating's last change."""
        latest = max((parse_iso(r["updated_at"]) for r in ratings), default=0)
        return max(self.dataset.now() - MUTATION_LAG, latest + 1)

    def _all_ratings(self) -> list[Json]:
        """The ratings tickets carry, built on first use; ``rate`` adds to them."""
        if self._ratings is None:
            dataset, rng = self.dataset, random.Random(f"rating-details:{self.dataset.seed}")
            ratings = []
            for tid in dataset.ids("tickets"):
                ticket = dataset.get("tickets", tid)
                rating = ticket["satisfaction_rating"] or {}
                if "id" in rating:
                    # Scored when the ticket last changed, offered up to two days before (the
                    # reference's example: a day and six hours), not before the ticket was.
                    ts = parse_iso(ticket["updated_at"])
                    offered = max(parse_iso(ticket["created_at"]), ts - rng.randint(0, 172_800))
                    built = _rating(
                        dataset.base_url, rating["id"], ticket, rating["score"], rng, ts
                    )
                    built["created_at"] = iso(offered)
                    ratings.append({**built, "comment": rating.get("comment")})
            self._ratings = ratings
        return self._ratings


def _between(ratings: list[Json], query: Mapping[str, str], field: str) -> list[Json]:
    """Ratings with start_time <= ``field`` <= end_time (either bound optional)."""
    bounds = []
    for name in ("start_time", "end_time"):
        raw = query.get(name)
        if raw is not None and not raw.lstrip("-").isdigit():
            raise ValueError(f"{name} must be an integer (Unix epoch seconds)")
        bounds.append(None if raw is None else int(raw))
    start, end = bounds
    return [
        r
        for r in ratings
        if (start is None or parse_iso(r[field]) >= start)
        and (end is None or parse_iso(r[field]) <= end)
    ]


def _rating(base: str, rid: int, ticket: Json, score: str, rng: random.Random, ts: int) -> Json:
    rating: Json = {
        "url": f"{base}/api/v2/satisfaction_ratings/{rid}.json",
        "id": rid,
        "assignee_id": ticket["assignee_id"],
        "group_id": ticket["group_id"],
        "requester_id": ticket["requester_id"],
        "ticket_id": ticket["id"],
        "created_at": iso(ts),
        "updated_at": iso(ts),
        **_scored(score, rng),
    }
    return rating


def _scored(score: str, rng: random.Random) -> Json:
    """What the requester's answer sets: score, comment and, for a bad score, its reason."""
    answer: Json = {"score": score, "comment": rng.choice(_GOOD if score == "good" else _BAD)}
    if score == "bad":
        index = rng.randrange(len(_REASONS))
        answer["reason"] = _REASONS[index]
        answer["reason_id"] = _REASON_BASE + index
    return answer


class _Account:
    """What the builders read from the dataset, parsed at most once per request."""

    def __init__(self, dataset: Dataset) -> None:
        self.base = dataset.base_url
        self.seed = dataset.seed
        self.made = _Maker(dataset.base_url, dataset._window_start)
        self.dataset = dataset

    @cached_property
    def users(self) -> list[Json]:
        return [self.dataset.get("users", i) for i in self.dataset.ids("users")]

    @cached_property
    def tickets(self) -> list[Json]:
        return [self.dataset.get("tickets", i) for i in self.dataset.ids("tickets")]

    @cached_property
    def rules(self) -> Rules:
        admin = min(u["id"] for u in self.users if u["role"] == "admin")
        return Rules(self.base, self.made, admin)


def _group_memberships(account: _Account) -> list[Json]:
    """Each agent is in their default group and sometimes one more."""
    memberships = []
    for user in account.users:
        if user["role"] == "end-user" or user["default_group_id"] is None:
            continue
        rng = random.Random(f"group-memberships:{account.seed}:{user['id']}")
        groups = [user["default_group_id"]]
        if rng.random() < 0.4:
            groups.append(rng.choice([g for g in _GROUP_IDS if g != groups[0]]))
        created = parse_iso(user["created_at"])
        for group in groups:
            mid = _GROUP_MEMBERSHIP_BASE + _user_index(user) * 8 + _GROUP_IDS.index(group)
            memberships.append(
                {
                    "url": f"{account.base}/api/v2/group_memberships/{mid}.json",
                    "id": mid,
                    "user_id": user["id"],
                    "group_id": group,
                    "default": group == user["default_group_id"],
                    "created_at": iso(created + 60),
                    "updated_at": iso(created + 60 + rng.randint(0, 30 * 86400)),
                }
            )
    return memberships


def _organization_memberships(account: _Account) -> list[Json]:
    """Each user with an organization belongs to it (default) and sometimes to a second one;
    ``default`` is null on the others, as Zendesk returns it."""
    dataset = account.dataset
    orgs = {oid: dataset.get("organizations", oid) for oid in dataset.ids("organizations")}
    memberships = []
    for user in account.users:
        if user["organization_id"] is None:
            continue
        rng = random.Random(f"organization-memberships:{account.seed}:{user['id']}")
        joined = [user["organization_id"]]
        others = [oid for oid in orgs if oid != joined[0]]
        if others and rng.random() < 0.15:
            joined.append(rng.choice(others))
        created = parse_iso(user["created_at"])
        for k, oid in enumerate(joined):
            mid = _ORG_MEMBERSHIP_BASE + _user_index(user) * 4 + k
            memberships.append(
                {
                    "url": f"{account.base}/api/v2/organization_memberships/{mid}.json",
                    "id": mid,
                    "user_id": user["id"],
                    "organization_id": oid,
                    "default": True if k == 0 else None,
                    "created_at": iso(created + k * 86400),
                    "updated_at": iso(created + k * 86400),
                    "organization_name": orgs[oid]["name"],
                    "view_tickets": rng.random() < 0.3,
                }
            )
    return memberships


def _tags(account: _Account) -> list[Json]:
    """Tags of the tickets with how many tickets carry each, most used first."""
    counts = Counter(tag for ticket in account.tickets for tag in ticket["tags"])
    return [{"name": name, "count": n} for name, n in counts.items()]


def _custom_statuses(account: _Account) -> list[Json]:
    """The statuses of the custom_status ticket field, with the raw_* keys this API adds."""
    statuses = []
    for status in account.made.custom_statuses():
        raw = {f"raw_{key}": status[key] for key in _RAW_KEYS}
        statuses.append({**status, **raw})
    return statuses


_RAW_KEYS = ("agent_label", "end_user_label", "description", "end_user_description")


def _deleted_tickets(account: _Account) -> list[Json]:
    """The tickets the export shows as deleted, as the deleted-tickets list names them."""
    agents = [u for u in account.users if u["role"] != "end-user"]
    deleted = []
    for ticket in account.tickets:
        if ticket["status"] != "deleted" or not agents:
            continue
        rng = random.Random(f"deleted:{account.seed}:{ticket['id']}")
        actor = rng.choice(agents)
        deleted.append(
            {
                "id": ticket["id"],
                "subject": rng.choice(_SUBJECTS),
                "actor": {"id": actor["id"], "name": actor["name"]},
                "previous_state": rng.choice(_PREVIOUS_STATES),
                "deleted_at": ticket["updated_at"],
            }
        )
    return deleted


def _user_index(user: Json) -> int:
    return (user["id"] - _USER_BASE) // _USER_STEP


_BUILDERS: dict[str, Callable[[_Account], list[Json]]] = {
    "group_memberships": _group_memberships,
    "organization_memberships": _organization_memberships,
    "tags": _tags,
    "macros": lambda account: account.rules.macros(),
    "views": lambda account: account.rules.views(),
    "triggers": lambda account: account.rules.triggers(),
    "automations": lambda account: account.rules.automations(),
    "sla_policies": lambda account: account.rules.sla_policies(),
    "schedules": lambda account: account.rules.schedules(),
    "custom_statuses": _custom_statuses,
    "deleted_tickets": _deleted_tickets,
}


def _by_id(obj: Json) -> tuple[int, ...]:
    return (obj["id"],)


def _by_position(obj: Json) -> tuple[int, ...]:
    return (obj["position"], obj["id"])


def _by_created(obj: Json) -> tuple[int, ...]:
    return (parse_iso(obj["created_at"]), obj["id"])


def _by_popularity(obj: Json) -> tuple[int, ...]:
    # Cursor keys are integers: the name, read as one big number, breaks ties between counts.
    return (-obj["count"], int.from_bytes(obj["name"].encode(), "big"))


# Cursor order of each paged list, as named inside the cursor, and the key that sorts it.
_ORDERS: dict[str, tuple[str, Callable[[Json], tuple[int, ...]]]] = {
    "group_memberships": ("id", _by_id),
    "organization_memberships": ("id", _by_id),
    "tags": ("-score,id", _by_popularity),
    "macros": ("position,id", _by_position),
    "views": ("position,id", _by_position),
    "triggers": ("position,id", _by_position),
    "automations": ("position,id", _by_position),
    "satisfaction_ratings": ("created_at,id", _by_created),
    "deleted_tickets": ("id", _by_id),
}
