"""What a run tells its user on stderr while it works and when it ends.

While streams run, a line per running stream at least every `progress_interval` seconds:
records, pages, requests, time waited for rate limits and, for exports, how far the export
has come from the start date towards now, with an estimate of the time left. At exit, a
table per stream (records, requests, 429s, skips, duration) and the skips repeated, so a long
log still ends with everything a user has to look at (a stream's notes, such as why it is
empty, too).
"""

from __future__ import annotations

import atexit
import dataclasses
import logging
import threading
import time
import typing as t
import weakref

from tap_zendesk.config.options import DEFAULTS

if t.TYPE_CHECKING:
    from tap_zendesk.api.ratelimit import RateGovernor


@dataclasses.dataclass
class StreamTally:
    """One stream's counts; written by its threads, read by the progress ticker."""

    name: str
    started: float = dataclasses.field(default_factory=time.monotonic)
    finished: float | None = None
    # Between `begin` and `end`: the stream is reading its pages (progress lines are due).
    reading: bool = False
    records: int = 0
    pages: int = 0
    requests: int = 0
    throttled: int = 0
    waited: float = 0.0
    skipped_reads: int = 0
    skipped: str | None = None
    # Things about the stream's data the user should act on, repeated in the summary.
    notes: list[str] = dataclasses.field(default_factory=list)
    # Exports: the Unix second they started from and the one the last page reached.
    span_start: int | None = None
    position: int | None = None
    # While Zendesk fails: since when (monotonic) and why; None when it answers.
    outage: tuple[float, str] | None = None

    def begin(self) -> None:
        """The stream starts reading (requests made before, at discovery, still count)."""
        self.started, self.finished, self.reading = time.monotonic(), None, True

    def end(self) -> None:
        """The stream is done (or stopped)."""
        self.finished, self.reading = time.monotonic(), False

    @property
    def duration(self) -> float:
        """Seconds from the first request to the end (or to now while running)."""
        return (self.finished or time.monotonic()) - self.started

    def done_fraction(self, now: float) -> float | None:
        """How much of the export's time range is read, from 0 to 1; None if unknown."""
        if self.span_start is None or self.position is None or now <= self.span_start:
            return None
        return min(1.0, max(0.0, (self.position - self.span_start) / (now - self.span_start)))

    def progress_line(self) -> str:
        """The running stream in one line."""
        line = (
            f"Progress {self.name}: {self.records:,} records, {self.pages:,} pages, "
            f"{self.requests:,} requests, {self.waited:.1f} s waiting for rate limits"
        )
        fraction = self.done_fraction(time.time())
        if fraction:
            left = self.duration * (1 - fraction) / fraction
            line += f", {fraction:.0%} done, about {_clock(left)} left"
        if (outage := self.outage) is not None:
            since, reason = outage
            line += f", Zendesk failing for {_clock(time.monotonic() - since)} ({reason}), waiting"
        return line


class RunReport:
    """The run's tallies per stream, the progress ticker, and the end-of-run summary."""

    def __init__(self, logger: logging.Logger) -> None:
        self._lock = threading.Lock()
        self._logger = logger
        self.governor: RateGovernor | None = None
        self.streams: dict[str, StreamTally] = {}
        self.interval: float = DEFAULTS["progress_interval"]
        self._ticker: threading.Thread | None = None
        self._stopped = threading.Event()

    @classmethod
    def for_run(cls, logger: logging.Logger, interval: float) -> RunReport:
        """A run's report, whose summary is logged when the process exits."""
        report = cls(logger)
        report.interval = interval
        atexit.register(_log, weakref.ref(report), logger)
        return report

    def tally(self, stream: str) -> StreamTally:
        """The stream's tally, started the first time it is asked for."""
        with self._lock:
            tally = self.streams.get(stream)
            if tally is None:
                tally = self.streams[stream] = StreamTally(stream)
            if self._ticker is None:
                self._ticker = threading.Thread(target=self._tick, name="progress", daemon=True)
                self._ticker.start()
            return tally

    def stream_skipped(self, stream: str, reason: str) -> None:
        self.tally(stream).skipped = reason

    def stream_note(self, stream: str, note: str) -> None:
        """A line for the summary about what the stream found, e.g. why it is empty."""
        tally = self.tally(stream)
        with self._lock:
            tally.notes.append(note)

    def read_skipped(self, stream: str) -> None:
        tally = self.tally(stream)
        with self._lock:
            tally.skipped_reads += 1

    def _tick(self) -> None:
        while not self._stopped.wait(self.interval):
            with self._lock:
                running = [s for s in self.streams.values() if s.reading]
            for tally in running:
                self._logger.info("%s", tally.progress_line())

    def lines(self) -> list[str]:
        """The summary: totals, a table per stream, then every skip."""
        self._stopped.set()
        governor = self.governor
        lines = [
            f"Run summary: {governor.throttled if governor else 0} responses 429 received, "
            f"{governor.waited if governor else 0.0:.1f} s spent waiting for rate limits"
        ]
        with self._lock:
            tallies = sorted(self.streams.values(), key=lambda s: s.started)
        if tallies:
            width = max(len("stream"), *(len(s.name) for s in tallies))
            lines.append(
                f"Run summary: {'stream':<{width}} {'records':>10} {'requests':>9} "
                f"{'429s':>5} {'skips':>6} {'duration':>9}"
            )
            lines += [
                f"Run summary: {s.name:<{width}} {s.records:>10,} {s.requests:>9,} "
                f"{s.throttled:>5} {s.skipped_reads + bool(s.skipped):>6} "
                f"{_clock(s.duration):>9}"
                for s in tallies
            ]
        lines += [
            f"Run summary: skipped stream {s.name}: {s.skipped}" for s in tallies if s.skipped
        ]
        lines += [
            f"Run summary: {s.name} skipped {s.skipped_reads} per-ticket read(s) Zendesk refused"
            for s in tallies
            if s.skipped_reads
        ]
        lines += [f"Run summary: {s.name}: {note}" for s in tallies for note in s.notes]
        return lines


def _log(report: weakref.ref[RunReport], logger: logging.Logger) -> None:
    if (alive := report()) is not None:
        for line in alive.lines():
            logger.info(line)


def _clock(seconds: float) -> str:
    """1h02m, 3m20s or 4.2s."""
    if seconds >= 3600:
        return f"{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"
    if seconds >= 60:
        return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"
    return f"{seconds:.1f}s"
