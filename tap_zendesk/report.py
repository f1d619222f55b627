"""The end-of-run summary: 429s, time spent waiting for rate limits, and what was skipped.

Skips are warnings when they happen; the summary repeats them so a long log still ends with
everything a user has to look at.
"""

from __future__ import annotations

import atexit
import collections
import logging
import threading
import typing as t
import weakref

if t.TYPE_CHECKING:
    from tap_zendesk.ratelimit import RateGovernor


class RunReport:
    """What one tap run skipped and waited for."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.governor: RateGovernor | None = None
        self.skipped_streams: dict[str, str] = {}
        self.skipped_reads: collections.Counter[str] = collections.Counter()

    def stream_skipped(self, stream: str, reason: str) -> None:
        with self._lock:
            self.skipped_streams[stream] = reason

    def read_skipped(self, stream: str) -> None:
        with self._lock:
            self.skipped_reads[stream] += 1

    def lines(self) -> list[str]:
        """The summary, one line per topic."""
        governor = self.governor
        lines = [
            f"Run summary: {governor.throttled if governor else 0} responses 429 received, "
            f"{governor.waited if governor else 0.0:.1f} s spent waiting for rate limits"
        ]
        lines += [f"Run summary: skipped stream {s}: {r}" for s, r in self.skipped_streams.items()]
        lines += [
            f"Run summary: {stream} skipped {count} per-ticket read(s) Zendesk refused"
            for stream, count in self.skipped_reads.items()
        ]
        return lines


_REPORTS: weakref.WeakKeyDictionary[object, RunReport] = weakref.WeakKeyDictionary()
_REPORTS_LOCK = threading.Lock()


def report_for(owner: object, logger: logging.Logger) -> RunReport:
    """The report of `owner` (the tap), logged when the process exits."""
    with _REPORTS_LOCK:
        report = _REPORTS.get(owner)
        if report is None:
            report = _REPORTS[owner] = RunReport()
            atexit.register(_log, weakref.ref(report), logger)
        return report


def _log(report: weakref.ref[RunReport], logger: logging.Logger) -> None:
    if (alive := report()) is not None:
        for line in alive.lines():
            logger.info(line)
