"""Rate-limit windows and the headers Zendesk advertises
(https://developer.zendesk.com/api-reference/introduction/rate-limits/; the export budget of 10
a minute: https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/#rate-limits).

One fixed window of ``time_scale`` real seconds stands for Zendesk's one-minute window, so tests
can exercise throttling in a few seconds while every header and ``Retry-After`` value stays in
real seconds: that is what a client actually sleeps on.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# Advertised when no account limit is configured: the Enterprise plan figure seen in recordings.
NOMINAL_ACCOUNT_LIMIT = 700
EXPORT_BUCKET_HEADER = "zendesk-ratelimit-incremental-exports"

Headers = list[tuple[str, str]]

_UNSET: object = object()


@dataclass(frozen=True, slots=True)
class Verdict:
    """Outcome of asking for budget: refused verdicts name the bucket that ran out."""

    allowed: bool
    bucket: str | None
    retry_after: int
    headers: Headers = field(default_factory=list)


class RateLimiter:
    """Account-wide and incremental-export budgets per fixed window.

    ``None`` means unlimited. Refused requests consume nothing, mirroring Zendesk where a 429
    does not count against the next attempt.
    """

    def __init__(
        self,
        time_scale: float = 60.0,
        account_limit: int | None = None,
        export_limit: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._time_scale = check_time_scale(time_scale)
        self._account_limit = check_limit(account_limit, "account_limit")
        self._export_limit = check_limit(export_limit, "export_limit")
        self._origin = clock()
        self._window = 0
        self._account_used = 0
        self._export_used = 0

    @property
    def time_scale(self) -> float:
        return self._time_scale

    @property
    def account_limit(self) -> int | None:
        return self._account_limit

    @property
    def export_limit(self) -> int | None:
        return self._export_limit

    def configure(
        self,
        *,
        time_scale: object = _UNSET,
        account_limit: object = _UNSET,
        export_limit: object = _UNSET,
    ) -> None:
        """Change limits at runtime; a new ``time_scale`` starts a fresh window."""
        with self._lock:
            if time_scale is not _UNSET:
                self._time_scale = check_time_scale(time_scale)
                self._origin = self._clock()
                self._window = 0
                self._account_used = 0
                self._export_used = 0
            if account_limit is not _UNSET:
                self._account_limit = check_limit(account_limit, "account_limit")
            if export_limit is not _UNSET:
                self._export_limit = check_limit(export_limit, "export_limit")

    def admit(self, export: bool, consume: bool = True) -> Verdict:
        """Decide one request; ``consume=False`` only looks (used for faults and auth errors)."""
        with self._lock:
            reset_in = self._roll()
            retry = max(1, math.ceil(reset_in))
            if self._account_limit is not None and self._account_used >= self._account_limit:
                return Verdict(False, "account", retry, self._headers(export, retry))
            if (
                export
                and self._export_limit is not None
                and self._export_used >= self._export_limit
            ):
                return Verdict(False, "export", retry, self._headers(export, retry))
            if consume:
                self._account_used += 1
                if export:
                    self._export_used += 1
            return Verdict(True, None, retry, self._headers(export, retry))

    def _roll(self) -> float:
        """Move to the current window, resetting counters; return real seconds until it ends."""
        elapsed = self._clock() - self._origin
        window = int(elapsed // self._time_scale)
        if window != self._window:
            self._window = window
            self._account_used = 0
            self._export_used = 0
        return (window + 1) * self._time_scale - elapsed

    def _headers(self, export: bool, reset: int) -> Headers:
        if self._account_limit is None:
            # Unlimited still advertises a plan figure, but never a remaining of 0: a client
            # that throttles itself on that header would otherwise sleep for nothing.
            limit = NOMINAL_ACCOUNT_LIMIT
            remaining = max(1, limit - self._account_used)
        else:
            limit = self._account_limit
            remaining = max(0, limit - self._account_used)
        headers = [
            ("x-rate-limit", str(limit)),
            ("x-rate-limit-remaining", str(remaining)),
            ("ratelimit-limit", str(limit)),
            ("ratelimit-remaining", str(remaining)),
            ("ratelimit-reset", str(reset)),
        ]
        if export and self._export_limit is not None:
            left = max(0, self._export_limit - self._export_used)
            headers.append(
                (
                    EXPORT_BUCKET_HEADER,
                    f"total={self._export_limit}; remaining={left}; resets={reset}",
                )
            )
        return headers


def check_time_scale(value: object) -> float:
    """Validate a window length; shared with Emulator.configure's validate-first pass."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"time_scale must be a positive number, got {value!r}")
    return float(value)


def check_limit(value: object, name: str) -> int | None:
    """Validate a per-window budget; None means unlimited."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer or None, got {value!r}")
    return value
