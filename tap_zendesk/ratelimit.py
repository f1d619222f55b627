"""The rate governor: every request of the process waits for its budget before it is sent.

Zendesk meters requests in buckets: the whole account (200-2500 a minute by plan), the
incremental exports (10 a minute, 30 with High Volume) and the search export (100 a minute).
Each bucket here spaces its requests evenly at its rate, so no window of any length sees more
than the budget, and follows what the response headers say is left (`ratelimit-remaining`,
`ratelimit-reset`, `zendesk-ratelimit-*`). A 429 is honoured through Retry-After, but it
means the budget was wrong: they are counted and reported at the end of the run.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import typing as t

from tap_zendesk.per_tap import per_tap

if t.TYPE_CHECKING:
    from collections.abc import Mapping

ACCOUNT, EXPORT, SEARCH = "account", "export", "search"
SEARCH_EXPORT_PER_MINUTE = 100
# A hair above the exact interval, so clock jitter never fits budget + 1 into one window.
SPACING_MARGIN = 1.01


def buckets_of(path: str) -> tuple[str, ...]:
    """The buckets a request to `path` draws on; every request counts for the account."""
    if "/incremental/" in path:
        return (ACCOUNT, EXPORT)
    if "/search/export" in path:
        return (ACCOUNT, SEARCH)
    return (ACCOUNT,)


@dataclasses.dataclass
class _Bucket:
    per_minute: float
    next_slot: float = 0.0
    blocked_until: float = 0.0
    # Zendesk reports the seconds to its window's reset rounded up; the earliest
    # (time seen + seconds reported) within one window bounds the true reset most tightly.
    reset_bound: float = 0.0
    last_remaining: float = float("inf")

    @property
    def interval(self) -> float:
        return 60.0 / self.per_minute * SPACING_MARGIN


class RateGovernor:
    """Budgets per Zendesk bucket, shared by every stream and worker of one tap."""

    def __init__(
        self,
        per_minute: Mapping[str, float],
        clock: t.Callable[[], float] = time.monotonic,
        sleep: t.Callable[[float], None] = time.sleep,
    ) -> None:
        self._buckets = {name: _Bucket(rate) for name, rate in per_minute.items()}
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self.waited = 0.0
        self.throttled = 0

    def acquire(self, path: str) -> float:
        """Block until a request to `path` fits every budget it draws on; the seconds waited.

        Slots are reserved under the lock, so concurrent callers queue in order.
        """
        buckets = [self._buckets[name] for name in buckets_of(path) if name in self._buckets]
        with self._lock:
            now = self._clock()
            at = max([now] + [max(b.next_slot, b.blocked_until) for b in buckets])
            for bucket in buckets:
                bucket.next_slot = at + bucket.interval
            wait = at - now
            self.waited += wait
        if wait > 0:
            self._sleep(wait)
        return wait

    def observe(self, path: str, headers: Mapping[str, str]) -> None:
        """Follow Zendesk's own count: an exhausted bucket waits for its window's reset."""
        now = self._clock()
        for name, remaining, reset in _reported(headers, buckets_of(path)):
            if name not in self._buckets:
                continue
            with self._lock:
                bucket = self._buckets[name]
                new_window = remaining > bucket.last_remaining or now >= bucket.reset_bound
                bound = now + reset
                bucket.reset_bound = bound if new_window else min(bucket.reset_bound, bound)
                bucket.last_remaining = remaining
                if remaining < 1:
                    bucket.blocked_until = max(bucket.blocked_until, bucket.reset_bound)

    def rate_limited(self, path: str, retry_after: float) -> None:
        """A 429: count it, and hold the request's buckets for Retry-After."""
        until = self._clock() + retry_after
        with self._lock:
            self.throttled += 1
            for name in buckets_of(path):
                if name in self._buckets:
                    bucket = self._buckets[name]
                    bucket.blocked_until = max(bucket.blocked_until, until)


def _reported(
    headers: Mapping[str, str], buckets: tuple[str, ...]
) -> t.Iterator[tuple[str, float, float]]:
    """(bucket, remaining, seconds to reset) from the headers Zendesk sends."""
    remaining = headers.get("ratelimit-remaining") or headers.get("x-rate-limit-remaining")
    reset = headers.get("ratelimit-reset") or headers.get("rate-limit-reset")
    if remaining and reset and remaining.isdigit() and reset.isdigit():
        yield ACCOUNT, float(remaining), float(reset)
    for name, left, resets in endpoint_limits(headers):
        if "search" in name:
            bucket = SEARCH
        elif "incremental" in name or "export" in name:
            bucket = EXPORT
        else:  # endpoint buckets such as tickets-index are not budgeted separately
            continue
        if bucket in buckets:
            yield bucket, left, resets


def endpoint_limits(headers: Mapping[str, str]) -> t.Iterator[tuple[str, float, float]]:
    """(header name, remaining, seconds to reset) of each `zendesk-ratelimit-<bucket>` header,
    whose value reads `total=100; remaining=99; resets=41`."""
    for name, value in headers.items():
        lowered = name.lower()
        if not lowered.startswith(("zendesk-ratelimit-", "zendesk-rate-limit-")):
            continue
        fields = dict(part.strip().partition("=")[::2] for part in value.split(";"))
        if fields.get("remaining", "").isdigit() and fields.get("resets", "").isdigit():
            yield lowered, float(fields["remaining"]), float(fields["resets"])


def governor_for(owner: object, per_minute: Mapping[str, float]) -> RateGovernor:
    """The one governor of `owner` (the tap), created on first use."""
    return per_tap(owner, "governor", lambda: RateGovernor(per_minute))
