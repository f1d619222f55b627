"""The rate governor: every request of the process waits for its budget before it is sent.

Zendesk meters requests in buckets: the whole account (200-2500 a minute by plan), the
incremental exports (10 a minute, 30 with High Volume), the search export (100 a minute) and
some single endpoints (e.g. `/deleted_tickets`, 10 a minute). Each bucket here keeps the times
of the requests sent in the last window and lets a request go as soon as no window of that
length would then hold more than the budget (a sliding window): a run's first requests go out
at once, and a long run never sends more than Zendesk allows in any minute.

Budgets come from Zendesk itself where it states them: the account limit of every response
(`x-rate-limit` / `ratelimit-limit`) and the `zendesk-ratelimit-<bucket>: total=…` headers.
A configured value is a ceiling the user can lower (to leave room for other integrations).
Remaining/reset headers hold an exhausted bucket until its window resets, and a 429 holds only
the bucket it came from for Retry-After; 429s are counted and reported at the end of the run.
"""

from __future__ import annotations

import collections
import dataclasses
import re
import threading
import time
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Mapping

ACCOUNT, EXPORT, SEARCH = "account", "export", "search"
# Budgets assumed until Zendesk states one: the lowest plan (Team), the documented export and
# search export limits.
ASSUMED_PER_MINUTE = {ACCOUNT: 200.0, EXPORT: 10.0, SEARCH: 100.0}
WINDOW_SECONDS = 60.0
# The budget of an endpoint bucket whose header names no total: in effect none.
_UNSTATED = 1_000_000.0
# A hair above the exact window, so clock jitter never fits budget + 1 into one window.
SPACING_MARGIN = 1.01
_ID_SEGMENT = re.compile(r"/\d+(?=/|\.json|$)")


def buckets_of(path: str) -> tuple[str, ...]:
    """The fixed buckets a request to `path` draws on; every request counts for the account."""
    if "/incremental/" in path:
        return (ACCOUNT, EXPORT)
    if "/search/export" in path:
        return (ACCOUNT, SEARCH)
    return (ACCOUNT,)


def endpoint_of(path: str) -> str:
    """`path` with its ids replaced, so all tickets' comments share one endpoint."""
    return _ID_SEGMENT.sub("/{id}", path)


@dataclasses.dataclass
class _Bucket:
    ceiling: float | None
    stated: float | None = None
    sent: collections.deque[float] = dataclasses.field(default_factory=collections.deque)
    blocked_until: float = 0.0
    # Zendesk reports the seconds to its window's reset rounded up; the earliest
    # (time seen + seconds reported) within one window bounds the true reset most tightly.
    reset_bound: float = 0.0
    last_remaining: float = float("inf")
    assumed: float = ASSUMED_PER_MINUTE[ACCOUNT]

    @property
    def budget(self) -> int:
        """Requests allowed per window: what Zendesk states, else the configured figure, else
        the assumption; never above the configured ceiling."""
        if self.stated is not None:
            value = self.stated
        else:
            value = self.ceiling if self.ceiling is not None else self.assumed
        if self.ceiling is not None:
            value = min(value, self.ceiling)
        return max(1, int(value))

    def earliest(self, now: float, window: float) -> float:
        """The first moment from `now` at which one more request fits the budget."""
        span = window * SPACING_MARGIN
        while self.sent and self.sent[0] <= now - span:
            self.sent.popleft()
        at = self.blocked_until
        budget = self.budget
        if len(self.sent) >= budget:
            at = max(at, self.sent[-budget] + span)
        return at


class RateGovernor:
    """Budgets per Zendesk bucket, shared by every stream and worker of one tap."""

    def __init__(
        self,
        ceilings: Mapping[str, float | None],
        clock: t.Callable[[], float] = time.monotonic,
        sleep: t.Callable[[float], None] = time.sleep,
        window: float = WINDOW_SECONDS,
    ) -> None:
        self._buckets = {
            name: _Bucket(ceiling, assumed=ASSUMED_PER_MINUTE.get(name, 1.0))
            for name, ceiling in ceilings.items()
        }
        # Endpoint buckets Zendesk announced, by the endpoint whose responses named them.
        self._endpoint_buckets: dict[str, set[str]] = {}
        self._clock = clock
        self._sleep = sleep
        self._window = window
        self._lock = threading.Lock()
        self.waited = 0.0
        self.throttled = 0

    def budget(self, bucket: str) -> int:
        """The budget per window a bucket has now (for reports and tests)."""
        with self._lock:
            return self._buckets[bucket].budget

    def acquire(self, path: str) -> float:
        """Block until a request to `path` fits every budget it draws on; the seconds waited.

        A request is recorded only when it goes, so one waiting for a small bucket (the
        export's) never holds back requests that draw only on the account's.
        """
        waited = 0.0
        while True:
            with self._lock:
                buckets = self._buckets_for(path)
                now = self._clock()
                at = max([now] + [b.earliest(now, self._window) for b in buckets])
                if at <= now:
                    for bucket in buckets:
                        bucket.sent.append(now)
                    self.waited += waited
                    return waited
            self._sleep(at - now)
            waited += at - now

    def observe(self, path: str, headers: Mapping[str, str]) -> None:
        """Follow what Zendesk states: each bucket's limit, and an exhausted bucket waits for
        its window's reset."""
        now = self._clock()
        limit = _number(headers.get("ratelimit-limit") or headers.get("x-rate-limit"))
        with self._lock:
            if limit is not None and ACCOUNT in self._buckets:
                self._buckets[ACCOUNT].stated = limit
            for name, total, remaining, reset in _reported(headers):
                bucket = self._bucket_named(name, path, total)
                if bucket is None:
                    continue
                if total is not None:
                    bucket.stated = total
                new_window = remaining > bucket.last_remaining or now >= bucket.reset_bound
                bound = now + reset
                bucket.reset_bound = bound if new_window else min(bucket.reset_bound, bound)
                bucket.last_remaining = remaining
                if remaining < 1:
                    bucket.blocked_until = max(bucket.blocked_until, bucket.reset_bound)

    def rate_limited(
        self, path: str, retry_after: float, headers: Mapping[str, str] | None = None
    ) -> None:
        """A 429: count it, and hold the bucket it came from for Retry-After.

        The bucket is the one the headers say is exhausted; without such a header an export
        or search export 429 is its own bucket's, any other the account's.
        """
        until = self._clock() + retry_after
        headers = headers or {}
        with self._lock:
            self.throttled += 1
            names = [name for name, _, remaining, _ in _reported(headers) if remaining < 1]
            held = [self._bucket_named(name, path, None) for name in names]
            if not held and _number(headers.get("ratelimit-remaining")) == 0:
                held = [self._buckets.get(ACCOUNT)]
            if not any(held):
                own = buckets_of(path)[-1]
                held = [self._buckets.get(own)]
            for bucket in held:
                if bucket is not None:
                    bucket.blocked_until = max(bucket.blocked_until, until)

    def _buckets_for(self, path: str) -> list[_Bucket]:
        names = [*buckets_of(path), *self._endpoint_buckets.get(endpoint_of(path), ())]
        return [self._buckets[name] for name in names if name in self._buckets]

    def _bucket_named(self, header: str, path: str, total: float | None) -> _Bucket | None:
        """The bucket a `zendesk-ratelimit-<name>` header speaks of; an endpoint's own bucket
        is made the first time Zendesk names it, and applies to that endpoint from then on."""
        if header == ACCOUNT:
            return self._buckets.get(ACCOUNT)
        if "search" in header:
            return self._buckets.get(SEARCH) if SEARCH in buckets_of(path) else None
        if "incremental" in header or "export" in header:
            return self._buckets.get(EXPORT) if EXPORT in buckets_of(path) else None
        name = f"endpoint:{header}"
        if name not in self._buckets:
            # Without a stated total only its resets pace it (blocked_until), not a budget.
            self._buckets[name] = _Bucket(None, assumed=total or _UNSTATED)
        self._endpoint_buckets.setdefault(endpoint_of(path), set()).add(name)
        return self._buckets[name]


def _number(value: str | None) -> float | None:
    value = (value or "").strip()
    return float(value) if value.isdigit() else None


def _reported(
    headers: Mapping[str, str],
) -> t.Iterator[tuple[str, float | None, float, float]]:
    """(header, total, remaining, seconds to reset) of each bucket the headers report: the
    account's (`ratelimit-remaining`/`-reset`) and each `zendesk-ratelimit-<bucket>`."""
    remaining = _number(headers.get("ratelimit-remaining") or headers.get("x-rate-limit-remaining"))
    reset = _number(headers.get("ratelimit-reset") or headers.get("rate-limit-reset"))
    if remaining is not None and reset is not None:
        yield ACCOUNT, None, remaining, reset
    yield from endpoint_limits(headers)


def endpoint_limits(
    headers: Mapping[str, str],
) -> t.Iterator[tuple[str, float | None, float, float]]:
    """(header name, total, remaining, seconds to reset) of each `zendesk-ratelimit-<bucket>`
    header, whose value reads `total=100; remaining=99; resets=41`."""
    for name, value in headers.items():
        lowered = name.lower()
        if not lowered.startswith(("zendesk-ratelimit-", "zendesk-rate-limit-")):
            continue
        fields = dict(part.strip().partition("=")[::2] for part in value.split(";"))
        left, resets = _number(fields.get("remaining")), _number(fields.get("resets"))
        if left is not None and resets is not None:
            yield lowered, _number(fields.get("total")), left, resets
