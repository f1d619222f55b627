"""Fault injection: decide which request gets which failure.

This module only chooses; the server renders the failure. Choosing never touches export state,
so a client that retries the same URL after a fault gets the very page it missed.

Besides errors and broken connections there are well-formed answers that are still wrong:
``html_200`` (a maintenance page with status 200), ``empty_200`` (200 with no body),
``wrong_shape`` (200 JSON without the endpoint's keys) and ``redirect`` (302 to another host).
``503_retry_after`` is a 503 that says how long to stay away, as during maintenance; ``409``
is Zendesk's database conflict (the server module cites both sources).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass

KINDS = (
    "429",
    "429_no_retry_after",
    "500",
    "502",
    "503",
    "503_retry_after",
    "504",
    "409",
    "drop",
    "truncate",
    "short_body",
    "slow",
    "html_200",
    "empty_200",
    "wrong_shape",
    "redirect",
)
# Not drawn at random unless asked for: "slow" would make every randomised run crawl, and the
# others are answers a client may rightly stop on (wrong_shape, redirect) or that belong to
# tests written for them.
NOT_RANDOM_BY_DEFAULT = ("slow", "html_200", "empty_200", "wrong_shape", "redirect")
DEFAULT_SLOW_SECONDS = 5.0


@dataclass(slots=True)
class FaultRule:
    """Scripted fault: the next ``count`` requests whose path starts with ``path_prefix``."""

    path_prefix: str = "/api/v2/"
    kind: str = "500"
    count: int = 1
    slow_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {KINDS}")
        if self.count < 1:
            raise ValueError(f"count must be >= 1, got {self.count}")
        if not self.path_prefix.startswith("/"):
            raise ValueError(f"path_prefix must start with '/', got {self.path_prefix!r}")


@dataclass(frozen=True, slots=True)
class Fault:
    """A fault chosen for one request."""

    kind: str
    slow_seconds: float
    scripted: bool


class FaultInjector:
    """Scripted rules first (FIFO), then seeded random faults at ``fault_rate``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self.fault_rate = 0.0
        self.fault_kinds: tuple[str, ...] = tuple(
            k for k in KINDS if k not in NOT_RANDOM_BY_DEFAULT
        )
        self.fault_seed: int | None = None
        self.slow_seconds = DEFAULT_SLOW_SECONDS
        self._rng = random.Random(None)

    def add(self, rules: Iterable[FaultRule]) -> int:
        """Queue rules behind the ones already waiting; return how many are pending."""
        with self._lock:
            self._rules.extend(rules)
            return len(self._rules)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def pending(self) -> list[dict[str, object]]:
        """Rules still waiting, for the admin endpoint."""
        with self._lock:
            return [
                {
                    "path_prefix": r.path_prefix,
                    "kind": r.kind,
                    "count": r.count,
                    "slow_seconds": r.slow_seconds,
                }
                for r in self._rules
            ]

    def configure(
        self,
        *,
        fault_rate: float | None = None,
        fault_kinds: Iterable[str] | None = None,
        fault_seed: int | None = None,
        reseed: bool = False,
        slow_seconds: float | None = None,
    ) -> None:
        """Set random-fault parameters; ``reseed`` applies ``fault_seed`` (None = unseeded)."""
        rate, kinds, slow = check_settings(fault_rate, fault_kinds, slow_seconds)
        with self._lock:
            if rate is not None:
                self.fault_rate = rate
            if kinds is not None:
                self.fault_kinds = kinds
            if slow is not None:
                self.slow_seconds = slow
            if reseed:
                self.fault_seed = fault_seed
                self._rng = random.Random(fault_seed)

    def pick(self, path: str) -> Fault | None:
        """Consume and return the fault for a request to ``path``, if any."""
        # A prefix written with ".json" should still hit a request sent without the suffix.
        alt = path if path.endswith(".json") else path + ".json"
        with self._lock:
            for index, rule in enumerate(self._rules):
                if path.startswith(rule.path_prefix) or alt.startswith(rule.path_prefix):
                    rule.count -= 1
                    if rule.count <= 0:
                        del self._rules[index]
                    slow = self.slow_seconds if rule.slow_seconds is None else rule.slow_seconds
                    return Fault(rule.kind, slow, scripted=True)
            if self.fault_rate > 0.0 and self._rng.random() < self.fault_rate:
                return Fault(self._rng.choice(self.fault_kinds), self.slow_seconds, False)
        return None


def check_settings(
    fault_rate: float | None = None,
    fault_kinds: Iterable[str] | None = None,
    slow_seconds: float | None = None,
) -> tuple[float | None, tuple[str, ...] | None, float | None]:
    """Validate random-fault settings without applying them (None = leave unchanged)."""
    rate = kinds = slow = None
    if fault_rate is not None:
        rate = float(fault_rate)
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault_rate must be within 0..1, got {fault_rate!r}")
    if fault_kinds is not None:
        if isinstance(fault_kinds, str):
            raise ValueError("fault_kinds must be a list of kinds, not a string")
        kinds = tuple(fault_kinds)
        if not kinds or any(k not in KINDS for k in kinds):
            raise ValueError(f"fault_kinds must be a non-empty subset of {KINDS}")
    if slow_seconds is not None:
        slow = float(slow_seconds)
        if slow < 0:
            raise ValueError("slow_seconds must be >= 0")
    return rate, kinds, slow
