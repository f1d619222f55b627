"""`make bench`: how fast, how polite and how lean the tap is, against the bundled emulator.

    python -m tools.bench            # the full benchmark (6-7 minutes); writes BENCHMARKS.md
    python -m tools.bench --quick    # a small smoke run while developing; writes to its workdir

The machine is shared and noisy, so every timing is a ratio of two things measured side by side
in the same run, never an absolute number of seconds:

1. throughput: the tap syncing only `tickets` (100 000 of them) against a bare requests + json
   loop printing the same Singer lines (tools/bench_reference.py): the tap with its defaults
   (typed custom-field columns) and the tap set up for the reference's exact work; three
   rounds of tap, tap with defaults, reference, median of the per-round ratios.
2. paced: a full sync of every default stream against an emulator with Zendesk's limits on a
   compressed clock (a minute lasts 3 s; account 700, export 10 a minute); the tap configured
   as a user would (budgets from the emulator's headers, `rate_limit_window_seconds` = the
   emulator's minute). Its wall time over the floor: the least time the limits allow for the
   fewest requests that read every endpoint once; and how many 429s the emulator sent.
3. latency: a sync of every default stream of a small account (300 tickets) under Zendesk's
   real limits (a 60 s minute, account 700, export 10), over the same sync with no limits.
4. memory: the tap's peak RSS syncing every default stream at two sizes, and their ratio.
5. requests per 1 000 records per export stream, from the paced run, and the full-sync hours
   they project for 10 000 to 1 000 000 tickets under the standard and High Volume limits.

The emulator runs in this process on a background thread; the tap and the reference are
subprocesses writing stdout to /dev/null and stderr to a log in the workdir. A missed target
is reported as missed (the command still exits 0: it measures, it does not judge); a run that
failed or emitted the wrong number of records makes it exit 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import gc
import hashlib
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from tests.emulator import Dataset, Emulator
from tests.emulator.exports import start_position
from tests.emulator.limits import NOMINAL_ACCOUNT_LIMIT
from tests.emulator.server import Response
from tests.support.tap import catalog_for
from tools.demo import run_summary

REPO = Path(__file__).resolve().parent.parent
# The tap and the reference run on the interpreter running the benchmark (`make bench`: .venv).
PYTHON = sys.executable
TAP = str(Path(sys.executable).with_name("tap-zendesk"))
REFERENCE = str(Path(__file__).with_name("bench_reference.py"))

START_DATE = "2000-01-01"
PAGE_SIZE = 1000
# The tap paces itself by default (Zendesk's plan limits); where the emulator enforces no limit
# the tap is told so, or throughput would measure its pacing instead of its speed.
UNLIMITED_PER_MINUTE = 1_000_000

# Zendesk's limits: the Enterprise plan's account limit, the standard export limit.
ACCOUNT_LIMIT = NOMINAL_ACCOUNT_LIMIT
EXPORT_LIMIT = 10
HIGH_VOLUME_EXPORT_LIMIT = 30
# The paced run: one emulated minute lasts TIME_SCALE seconds (an int: singer-sdk reads JSON
# floats as Decimal). Compressed further, the bench measures the tap's CPU instead of its
# pacing: at 3 s a minute, a ticket events page (1000 audits, some 15 000 records of the
# streams it feeds) takes longer to emit than the budget's 0.3 s between requests, which on
# Zendesk's real clock (6 s) it never does.
TIME_SCALE = 12
# Every incremental export a full sync of the default streams reads, each once: the ticket
# events export serves ticket_audits, ticket_comments and ticket_events in one read.
EXPORTS = (
    ("tickets", "cursor"),
    ("users", "cursor"),
    ("organizations", "time"),
    ("ticket_events", "time"),
    ("ticket_metric_events", "time"),
)
# The streams whose request counts (run summary) are an export's requests (whichever of them syncs
# first reads for all), and the stream with one record per export item.
EXPORT_READERS = {
    "tickets": ("tickets",),
    "users": ("users",),
    "organizations": ("organizations",),
    "ticket_events": ("ticket_audits", "ticket_comments", "ticket_events"),
    "ticket_metric_events": ("ticket_metric_events",),
}
EXPORT_RECORDS = {
    "tickets": "tickets",
    "users": "users",
    "organizations": "organizations",
    "ticket_events": "ticket_audits",
    "ticket_metric_events": "ticket_metric_events",
}
EXPORT_PREFIX = "/api/v2/incremental/"
PROJECTED_TICKETS = (10_000, 100_000, 1_000_000)
WAIT_SUMMARY = re.compile(
    r"Run summary: (\d+) responses 429 received, ([\d.]+) s spent waiting for rate limits"
)
LATENCY_ROUNDS = 5

TARGET_THROUGHPUT = 1.0
TARGET_SAME_WORK = 1.5
TARGET_PACED = 1.05
TARGET_LATENCY = 1.5
TARGET_MEMORY = 1.15

# Runs the command in argv, its stdout on /dev/null, then reports the peak RSS (KiB on Linux)
# of its children only: a fresh wrapper per run, so no earlier run's peak can leak in.
RSS_WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.exit(code)\n"
)


class BenchError(Exception):
    """A run failed or emitted the wrong records: the numbers of that section mean nothing."""


@dataclasses.dataclass(frozen=True)
class Scale:
    """Dataset sizes of one benchmark run (full or --quick)."""

    throughput_tickets: int
    validate_tickets: int
    paced_tickets: int
    paced_users: int
    paced_organizations: int
    latency_tickets: int
    memory_small: int
    memory_large: int


# The large memory size: every default stream at 200 000 tickets takes the emulator far too
# long on this class of machine (its deleted_tickets and satisfaction_ratings pages cost time
# that grows with the account), so the ratio is taken over a 4x span instead of 20x.
FULL = Scale(100_000, 2_500, 10_000, 2_000, 400, 300, 10_000, 40_000)
QUICK = Scale(5_000, 1_000, 1_000, 200, 40, 300, 1_000, 4_000)


def n(value: float) -> str:
    """A count with spaces between thousands, as the targets are written: 100 000."""
    return f"{value:,}".replace(",", " ")


def plural(count: int, noun: str) -> str:
    return f"{n(count)} {noun}{'' if count == 1 else 's'}"


def per_minute(limit: int, time_scale: float) -> int | float:
    """A per-window emulator limit as the tap's per-minute setting.

    Integral values are passed as ints: singer-sdk reads JSON floats as Decimal.
    """
    rate = limit * 60 / time_scale
    return int(rate) if rate.is_integer() else rate


def tap_config(emulator: Emulator, **extra: Any) -> dict[str, Any]:
    credentials = emulator.credentials
    return {
        "url": emulator.url,
        "email": credentials["email"],
        "api_token": credentials["api_token"],
        "start_date": START_DATE,
        "page_size": PAGE_SIZE,
        **extra,
    }


def write_json(path: Path, content: Any) -> Path:
    path.write_text(json.dumps(content))
    return path


def tap_files(
    workdir: Path, name: str, config: dict[str, Any], streams: Iterable[str]
) -> list[str]:
    """Write config and catalog for one scenario; returns the tap's arguments."""
    config_path = write_json(workdir / f"{name}-config.json", config)
    catalog_path = write_json(workdir / f"{name}-catalog.json", catalog_for(config, streams))
    return ["--config", str(config_path), "--catalog", str(catalog_path)]


def run_timed(command: list[str], log: Path, stdout: Path | None = None) -> float:
    """Wall seconds of one subprocess, process start included; raises if it fails."""
    sink_path = stdout or Path(os.devnull)
    with sink_path.open("wb") as sink, log.open("wb") as errors:
        started = time.perf_counter()
        code = subprocess.call(command, stdout=sink, stderr=errors)
        elapsed = time.perf_counter() - started
    if code != 0:
        raise BenchError(f"{Path(command[0]).name} exited with {code}; see {log}")
    return elapsed


def metric_counters(log: Path) -> dict[str, Counter[str]]:
    """Sum the counter METRIC lines of a tap log (values are deltas) per metric and stream."""
    sums: dict[str, Counter[str]] = {}
    for line in log.read_text(errors="replace").splitlines():
        _, marker, payload = line.partition("METRIC: ")
        if not marker:
            continue
        point = json.loads(payload)
        if point.get("type") != "counter":
            continue
        stream = point.get("tags", {}).get("stream", "")
        sums.setdefault(point["metric"], Counter())[stream] += point["value"]
    return sums


def tap_records(log: Path, stream: str) -> int:
    return metric_counters(log).get("record_count", Counter())[stream]


def reference_summary(log: Path) -> dict[str, int]:
    lines = log.read_text(errors="replace").strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, ValueError) as exc:
        raise BenchError(f"the reference printed no summary; see {log}") from exc


def serve(emulator: Emulator) -> Emulator:
    """Freeze everything built so far out of the garbage collector, then start serving.

    The dataset is large and lives until the emulator stops; without the freeze every
    collection in the serving thread rescans it and shows up as noise in the timings.
    """
    gc.collect()
    gc.freeze()
    return emulator.start()


def release(emulator: Emulator) -> None:
    emulator.stop()
    gc.unfreeze()
    gc.collect()


def median_ratio(ratios: list[float]) -> float:
    return statistics.median(ratios) if ratios else math.nan


# --------------------------------------------------------------------------- 1. throughput

# The tap set up for the reference's work: only tickets (the catalog), no side-loads, and no
# typed custom-field columns, which add `cf_*` keys to every record that the bare loop does
# not compute.
SAME_WORK: dict[str, Any] = {"typed_custom_fields": False, "ticket_sideloads": []}
# The tap as it comes, still syncing only tickets: typed columns on (the default).
DEFAULTS: dict[str, Any] = {}
TYPED_PREFIX = "cf_"


@dataclasses.dataclass
class Round:
    """One run each of the tap (same work), the tap (defaults) and the reference."""

    tap_seconds: float
    defaults_seconds: float
    reference_seconds: float
    tap_requests: int
    defaults_requests: int
    reference_requests: int

    @property
    def ratio(self) -> float:
        return self.tap_seconds / self.reference_seconds

    @property
    def defaults_ratio(self) -> float:
        return self.defaults_seconds / self.reference_seconds


@dataclasses.dataclass
class Validation:
    """What a small run of both taps and the reference into files showed about their output."""

    tickets: int
    same_records: int
    tap_only_keys: list[str]
    # The tap with its defaults: records equal to the reference's once `cf_*` keys are dropped.
    same_without_typed: int
    typed_columns: list[str]


@dataclasses.dataclass
class Throughput:
    tickets: int
    validation: Validation
    rounds: list[Round]

    @property
    def ratio(self) -> float:
        return median_ratio([r.ratio for r in self.rounds])

    @property
    def defaults_ratio(self) -> float:
        return median_ratio([r.defaults_ratio for r in self.rounds])


def record_messages(path: Path) -> dict[int, dict[str, Any]]:
    """RECORD messages of a Singer output file by ticket id; a duplicate is an error."""
    messages: dict[int, dict[str, Any]] = {}
    with path.open("rb") as output:
        for line in output:
            message = json.loads(line)
            if message["type"] != "RECORD":
                continue
            ticket_id = message["record"]["id"]
            if ticket_id in messages:
                raise BenchError(f"{path} holds ticket {ticket_id} twice")
            messages[ticket_id] = message
    return messages


def unlimited_config(emulator: Emulator, setup: dict[str, Any]) -> dict[str, Any]:
    return tap_config(
        emulator,
        rate_limit_per_minute=UNLIMITED_PER_MINUTE,
        export_rate_limit_per_minute=UNLIMITED_PER_MINUTE,
        **setup,
    )


def validate_throughput(tickets: int, workdir: Path) -> Validation:
    """Run both taps and the reference once on a small export, into files; compare their output.

    Checks that all three emit exactly the emulator's tickets, the same-work tap with the
    reference's record objects and the defaults tap with them plus typed columns, so the timed
    runs (stdout on /dev/null) compare what they claim to. Doubles as warm-up.
    """
    emulator = serve(Emulator(tickets=tickets, users=10, organizations=10))
    outputs = {who: workdir / f"validate-{who}.jsonl" for who in ("tap", "defaults", "reference")}
    try:
        expected = {item_id for item_id, _ in emulator.dataset.truth("tickets")}
        args = {
            who: tap_files(
                workdir, f"validate-{who}", unlimited_config(emulator, setup), ["tickets"]
            )
            for who, setup in (("tap", SAME_WORK), ("defaults", DEFAULTS))
        }
        for who, tap_args in args.items():
            run_timed([TAP, *tap_args], workdir / f"validate-{who}.log", outputs[who])
        reference_args = [PYTHON, REFERENCE, *args["tap"][:2]]
        run_timed(reference_args, workdir / "validate-reference.log", outputs["reference"])
    finally:
        release(emulator)
    tap, defaults, ref = (record_messages(path) for path in outputs.values())
    for who, messages in (("tap", tap), ("tap with defaults", defaults), ("reference", ref)):
        if set(messages) != expected:
            raise BenchError(
                f"validation: the {who} emitted {len(messages)} tickets, expected {len(expected)}"
            )
    same = sum(tap[i]["record"] == ref[i]["record"] for i in expected)
    extra = sorted({key for m in tap.values() for key in m} - {k for m in ref.values() for k in m})
    untyped = {
        i: {k: v for k, v in defaults[i]["record"].items() if not k.startswith(TYPED_PREFIX)}
        for i in expected
    }
    same_untyped = sum(untyped[i] == ref[i]["record"] for i in expected)
    reference_keys = {key for m in ref.values() for key in m["record"]}
    typed = sorted({key for m in defaults.values() for key in m["record"]} - reference_keys)
    return Validation(len(expected), same, extra, same_untyped, typed)


def timed_tap(args: list[str], log: Path, emulator: Emulator, tickets: int) -> tuple[float, int]:
    """Seconds and requests of one tap run that must emit `tickets` tickets."""
    emulator.reset_stats()
    seconds = run_timed([TAP, *args], log)
    requests = emulator.stats["total_requests"]
    if (records := tap_records(log, "tickets")) != tickets:
        raise BenchError(f"the tap emitted {records} tickets, not {tickets}; see {log}")
    return seconds, requests


def throughput(scale: Scale, runs: int, workdir: Path, log: Callable[[str], None]) -> Throughput:
    tickets = scale.throughput_tickets
    result = Throughput(
        tickets, validate_throughput(min(tickets, scale.validate_tickets), workdir), []
    )
    emulator = serve(Emulator(tickets=tickets, users=10, organizations=10))
    try:
        same_args = tap_files(
            workdir, "throughput", unlimited_config(emulator, SAME_WORK), ["tickets"]
        )
        defaults_args = tap_files(
            workdir, "throughput-defaults", unlimited_config(emulator, DEFAULTS), ["tickets"]
        )
        for run in range(1, runs + 1):
            tap_seconds, tap_requests = timed_tap(
                same_args, workdir / f"throughput-tap-{run}.log", emulator, tickets
            )
            defaults_seconds, defaults_requests = timed_tap(
                defaults_args, workdir / f"throughput-defaults-{run}.log", emulator, tickets
            )
            ref_log = workdir / f"throughput-reference-{run}.log"
            ref_seconds = run_timed([PYTHON, REFERENCE, *same_args[:2]], ref_log)
            summary = reference_summary(ref_log)
            if summary.get("records") != tickets:
                raise BenchError(f"the reference emitted {summary}, not {tickets} tickets")
            one = Round(
                tap_seconds,
                defaults_seconds,
                ref_seconds,
                tap_requests,
                defaults_requests,
                summary["requests"],
            )
            result.rounds.append(one)
            log(
                f"  throughput {run}/{runs}: tap {tap_seconds:.2f} s, tap with defaults "
                f"{defaults_seconds:.2f} s, reference {ref_seconds:.2f} s, ratios "
                f"{one.ratio:.2f} and {one.defaults_ratio:.2f}"
            )
    finally:
        release(emulator)
    return result


# --------------------------------------------------------------------------- 2. paced


class TallyingEmulator(Emulator):
    """An emulator that also counts the requests it served (not 429) per bucket.

    The stats count requests by path including 429s and 429s by bucket, which cannot say
    which path an account-bucket 429 hit; the floor needs the exact served counts. It also
    keeps when each export request was served, to show where a run left the export budget
    unused, and the distinct account-only requests, the least the account bucket must serve.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._tally_lock = threading.Lock()
        self.served: Counter[str] = Counter()
        self.export_times: list[float] = []
        self.account_only: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
        self.exports: Counter[str] = Counter()

    def api_response(
        self, method: str, path: str, query: Mapping[str, str], auth: str | None, consume: bool
    ) -> Response:
        response = super().api_response(method, path, query, auth, consume)
        if response.status != 429:
            with self._tally_lock:
                self.served["account"] += 1
                if path.startswith(EXPORT_PREFIX):
                    self.served["export"] += 1
                    self.export_times.append(time.perf_counter())
                    self.exports[export_of(path)] += 1
                else:
                    self.account_only.add((path, tuple(sorted(query.items()))))
        return response

    def reset_tally(self) -> None:
        with self._tally_lock:
            self.served = Counter()
            self.export_times = []
            self.account_only = set()
            self.exports = Counter()


def export_of(path: str) -> str:
    """The export a request path reads: `/api/v2/incremental/tickets/cursor.json` -> tickets."""
    name = path.removeprefix(EXPORT_PREFIX).split("/")[0]
    return name.removesuffix(".json")


def floor_seconds(requests: int, budget: int, window: float) -> float:
    """The least wall time `requests` can take on a bucket of `budget` per `window`.

    A sliding (or a fresh fixed) window lets the first `budget` go at once, so the last
    request can go (ceil(N / B) - 1) windows after the first. The time the requests
    themselves take is left out: the smallest floor, so the strictest ratio.
    """
    return max(0, math.ceil(requests / budget) - 1) * window


@dataclasses.dataclass
class PacedRun:
    wall_seconds: float
    export_served: int
    account_served: int
    # The least the account bucket must serve: every export page once, and each distinct
    # account-only request (a page read twice in the run counts once).
    account_needed: int
    export_needed: int
    rate_limited: dict[str, int]
    requests: Counter[str]
    records: Counter[str]
    # Export requests the emulator served, per export.
    exports: Counter[str]
    # When the first and the last export request were served, from the tap's start.
    first_export: float
    last_export: float
    # The tap's own run summary: seconds its requests waited for the governor.
    tap_waited: float

    @property
    def export_floor(self) -> float:
        return floor_seconds(self.export_needed, EXPORT_LIMIT, TIME_SCALE)

    @property
    def account_floor(self) -> float:
        return floor_seconds(self.account_needed, ACCOUNT_LIMIT, TIME_SCALE)

    @property
    def floor_seconds(self) -> float:
        return max(self.export_floor, self.account_floor)

    @property
    def ratio(self) -> float:
        return self.wall_seconds / self.floor_seconds

    @property
    def rate_limited_total(self) -> int:
        return sum(self.rate_limited.values())


@dataclasses.dataclass
class Paced:
    tickets: int
    users: int
    organizations: int
    needed: dict[str, int]
    runs: list[PacedRun]

    @property
    def ratio(self) -> float:
        return median_ratio([r.ratio for r in self.runs])

    @property
    def needed_export(self) -> int:
        return sum(self.needed.values())

    @property
    def rate_limited_total(self) -> int:
        return sum(r.rate_limited_total for r in self.runs)


def export_requests(dataset: Dataset, export: str, style: str) -> int:
    """Requests a perfect client needs to read one export from START_DATE, paging the dataset
    exactly as the emulator's HTTP side does (cursor or time-based rules)."""
    since = int(dt.datetime.fromisoformat(START_DATE).replace(tzinfo=dt.UTC).timestamp())
    requests = 0
    if style == "cursor":
        after = start_position(since)
        while True:
            requests += 1
            cursor_page = dataset.cursor_page(export, after, PAGE_SIZE)
            if cursor_page.end_of_stream:
                return requests
            after = cursor_page.after
    while True:
        requests += 1
        time_page = dataset.time_page(export, since, PAGE_SIZE)
        if time_page.end_of_stream:
            return requests
        since = time_page.end_time


def expected_records(dataset: Dataset) -> dict[str, int]:
    """Records the export streams must emit from START_DATE, from the dataset itself."""
    events = len(dataset.truth("ticket_events"))
    return {
        "tickets": len(dataset.truth("tickets")),
        "users": len(dataset.truth("users")),
        "organizations": len(dataset.truth("organizations")),
        "ticket_comments": len(dataset.comments()),
        "ticket_audits": events,
        "ticket_events": events,
        "ticket_metric_events": len(dataset.truth("ticket_metric_events")),
    }


def check_records(log: Path, expected: Mapping[str, int], what: str) -> Counter[str]:
    """Records per stream from the tap's run summary, checked against `expected`.

    The summary, not the METRIC lines: streams written by the one reader of the ticket
    events export (ticket_comments, ticket_events) emit their records without their own
    `record_count` METRIC counting them.
    """
    records = Counter({stream: count for stream, (count, _) in run_summary(log).items()})
    wrong = {s: records[s] for s in expected if records[s] != expected[s]}
    if wrong:
        raise BenchError(
            f"{what}: records {wrong}, expected { {s: expected[s] for s in wrong} }; see {log}"
        )
    return records


def tap_summary(log: Path) -> tuple[int, float]:
    """429s received and seconds spent waiting, from the tap's own run summary."""
    match = WAIT_SUMMARY.search(log.read_text(errors="replace"))
    if match is None:
        raise BenchError(f"the tap logged no run summary; see {log}")
    return int(match[1]), float(match[2])


def config_only(workdir: Path, name: str, config: dict[str, Any]) -> list[str]:
    """The tap's arguments without a catalog: it syncs its default streams, as a user's
    first run does."""
    return ["--config", str(write_json(workdir / f"{name}-config.json", config))]


def paced(scale: Scale, repeat: int, workdir: Path, log: Callable[[str], None]) -> Paced:
    emulator = TallyingEmulator(
        tickets=scale.paced_tickets,
        users=scale.paced_users,
        organizations=scale.paced_organizations,
        time_scale=TIME_SCALE,
        account_limit=ACCOUNT_LIMIT,
        export_limit=EXPORT_LIMIT,
    )
    dataset = emulator.dataset
    # Computed before the clock starts; this also builds the ticket activity, which the
    # emulator otherwise builds lazily on the first events request, billing the tap for it.
    needed = {export: export_requests(dataset, export, style) for export, style in EXPORTS}
    expected = expected_records(dataset)
    result = Paced(scale.paced_tickets, scale.paced_users, scale.paced_organizations, needed, [])
    serve(emulator)
    try:
        # As a user sets it up for an emulator on a compressed clock: the window says how
        # long a minute lasts, and the budgets come from the emulator's headers.
        config = tap_config(emulator, rate_limit_window_seconds=TIME_SCALE)
        args = config_only(workdir, "paced", config)
        for run in range(1, repeat + 1):
            tap_log = workdir / f"paced-tap-{run}.log"
            emulator.reset_stats()
            emulator.reset_tally()
            # A new time_scale starts a fresh window with full budgets, as a real account has
            # after a quiet minute, and the same for every repetition.
            emulator.configure(time_scale=TIME_SCALE)
            started = time.perf_counter()
            wall = run_timed([TAP, *args], tap_log)
            records = check_records(tap_log, expected, f"paced run {run}")
            _, waited = tap_summary(tap_log)
            times = emulator.export_times or [started]
            paced_run = PacedRun(
                wall,
                emulator.served["export"],
                emulator.served["account"],
                result.needed_export + len(emulator.account_only),
                result.needed_export,
                dict(emulator.stats["rate_limited"]),
                Counter({s: requests for s, (_, requests) in run_summary(tap_log).items()}),
                records,
                emulator.exports.copy(),
                times[0] - started,
                times[-1] - started,
                waited,
            )
            result.runs.append(paced_run)
            log(
                f"  paced {run}/{repeat}: {wall:.1f} s, floor {paced_run.floor_seconds:.1f} s, "
                f"ratio {paced_run.ratio:.3f}, 429s {paced_run.rate_limited_total}, exports "
                f"from {paced_run.first_export:.1f} s to {paced_run.last_export:.1f} s"
            )
    finally:
        release(emulator)
    return result


# --------------------------------------------------------------------------- 3. latency


@dataclasses.dataclass
class LatencyRound:
    """One sync of every default stream under Zendesk's real limits, one with none."""

    limited_seconds: float
    unlimited_seconds: float
    requests: int
    rate_limited: int
    tap_waited: float

    @property
    def ratio(self) -> float:
        return self.limited_seconds / self.unlimited_seconds


@dataclasses.dataclass
class Latency:
    tickets: int
    export_requests: int
    rounds: list[LatencyRound]

    @property
    def ratio(self) -> float:
        return median_ratio([r.ratio for r in self.rounds])

    @property
    def rate_limited_total(self) -> int:
        return sum(r.rate_limited for r in self.rounds)


def latency(scale: Scale, rounds: int, workdir: Path, log: Callable[[str], None]) -> Latency:
    emulator = serve(Emulator(tickets=scale.latency_tickets))
    expected = expected_records(emulator.dataset)
    needed = sum(export_requests(emulator.dataset, e, style) for e, style in EXPORTS)
    result = Latency(scale.latency_tickets, needed, [])
    try:
        # Zendesk's figures as it states them; no ceilings and the default one-minute window.
        limited_args = config_only(workdir, "latency-limited", tap_config(emulator))
        unlimited_args = config_only(
            workdir, "latency-unlimited", unlimited_config(emulator, DEFAULTS)
        )
        for run in range(1, rounds + 1):
            emulator.configure(
                time_scale=60, account_limit=ACCOUNT_LIMIT, export_limit=EXPORT_LIMIT
            )
            emulator.reset_stats()
            limited_log = workdir / f"latency-limited-{run}.log"
            limited = run_timed([TAP, *limited_args], limited_log)
            stats = emulator.stats
            check_records(limited_log, expected, f"latency run {run} (limited)")
            _, waited = tap_summary(limited_log)

            emulator.configure(account_limit=None, export_limit=None)
            unlimited_log = workdir / f"latency-unlimited-{run}.log"
            unlimited = run_timed([TAP, *unlimited_args], unlimited_log)
            check_records(unlimited_log, expected, f"latency run {run} (no limits)")
            result.rounds.append(
                LatencyRound(
                    limited,
                    unlimited,
                    stats["total_requests"],
                    stats["rate_limited_total"],
                    waited,
                )
            )
            log(
                f"  latency {run}/{rounds}: {limited:.2f} s limited, {unlimited:.2f} s "
                f"without limits, ratio {result.rounds[-1].ratio:.2f}, waited {waited:.1f} s"
            )
    finally:
        release(emulator)
    return result


# --------------------------------------------------------------------------- 4. memory


@dataclasses.dataclass
class MemoryRun:
    tickets: int
    peak_kib: int
    wall_seconds: float

    @property
    def peak_mib(self) -> float:
        return self.peak_kib / 1024


@dataclasses.dataclass
class Memory:
    small: MemoryRun
    large: MemoryRun

    @property
    def ratio(self) -> float:
        return self.large.peak_kib / self.small.peak_kib


def peak_rss(tickets: int, workdir: Path) -> MemoryRun:
    emulator = Emulator(tickets=tickets, users=10, organizations=10)
    expected = expected_records(emulator.dataset)
    serve(emulator)
    try:
        config = unlimited_config(emulator, DEFAULTS)
        args = config_only(workdir, f"memory-{tickets}", config)
        tap_log = workdir / f"memory-{tickets}-tap.log"
        with tap_log.open("wb") as errors:
            started = time.perf_counter()
            done = subprocess.run(
                [PYTHON, "-c", RSS_WRAPPER, TAP, *args],
                stdout=subprocess.PIPE,
                stderr=errors,
                check=False,
            )
            wall = time.perf_counter() - started
    finally:
        release(emulator)
    if done.returncode != 0:
        raise BenchError(f"the tap exited with {done.returncode}; see {tap_log}")
    check_records(tap_log, expected, f"memory run, {n(tickets)} tickets")
    try:
        peak_kib = int(done.stdout.split()[-1])
    except (IndexError, ValueError) as exc:
        raise BenchError(f"the RSS wrapper printed {done.stdout!r}, not a number") from exc
    return MemoryRun(tickets, peak_kib, wall)


def memory(scale: Scale, workdir: Path, log: Callable[[str], None]) -> Memory:
    small = peak_rss(scale.memory_small, workdir)
    log(
        f"  memory {n(small.tickets)} tickets: {small.peak_mib:.1f} MiB, {small.wall_seconds:.0f} s"
    )
    large = peak_rss(scale.memory_large, workdir)
    log(
        f"  memory {n(large.tickets)} tickets: {large.peak_mib:.1f} MiB, {large.wall_seconds:.0f} s"
    )
    return Memory(small, large)


# --------------------------------------------------------------------------- 5. projection


@dataclasses.dataclass(frozen=True)
class ExportCost:
    """One export's cost in the paced run, the basis of the full-sync projection."""

    export: str
    records_stream: str
    records: int
    requests: int
    tickets: int

    @property
    def per_thousand(self) -> float:
        return 1000 * self.requests / self.records if self.records else math.nan

    @property
    def per_ticket(self) -> float:
        return self.records / self.tickets


def export_costs(paced_result: Paced) -> list[ExportCost]:
    """Requests and records per export in the last paced run: the export requests the emulator
    served, and the records of the stream that is one record per export item."""
    run = paced_result.runs[-1]
    return [
        ExportCost(
            export,
            EXPORT_RECORDS[export],
            run.records[EXPORT_RECORDS[export]],
            run.exports[export],
            paced_result.tickets,
        )
        for export, _ in EXPORTS
    ]


def projected_hours(requests: float, per_minute_limit: int) -> float:
    return floor_seconds(math.ceil(requests), per_minute_limit, 60) / 3600


# --------------------------------------------------------------------------- report


def source_fingerprint() -> str:
    """A hash of the tap's package files: the tap may be edited while a run is going on."""
    digest = hashlib.sha256()
    for path in sorted((REPO / "tap_zendesk").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(REPO)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def machine() -> dict[str, str]:
    def first(path: str, key: str) -> str:
        try:
            for line in Path(path).read_text().splitlines():
                name, _, value = line.partition(":")
                if name.strip() == key:
                    return value.strip()
        except OSError:
            pass
        return "unknown"

    mem_kib = first("/proc/meminfo", "MemTotal").split()[0]
    memory_text = f"{int(mem_kib) / 1024**2:.1f} GiB" if mem_kib.isdigit() else "unknown"
    try:
        tree = subprocess.run(
            ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        tree = "unknown"
    return {
        "platform": platform.platform(),
        "CPU": first("/proc/cpuinfo", "model name"),
        "CPUs (os.cpu_count)": str(os.cpu_count()),
        "memory": memory_text,
        "Python": sys.version.split()[0],
        "singer-sdk": metadata.version("singer-sdk"),
        "tree": f"{tree} (git describe --always --dirty); tap_zendesk/ sha256 "
        f"{source_fingerprint()}",
        "date (start of the run)": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


@dataclasses.dataclass
class Results:
    scale: Scale
    quick: bool
    throughput: Throughput | None = None
    paced: Paced | None = None
    latency: Latency | None = None
    memory: Memory | None = None
    failures: dict[str, str] = dataclasses.field(default_factory=dict)
    # Taken when the run starts: the tree may change while it runs (and the date with it).
    machine: dict[str, str] = dataclasses.field(default_factory=machine)
    source_at_start: str = dataclasses.field(default_factory=source_fingerprint)
    source_changed: bool = False


def verdict(met: bool) -> str:
    return "yes" if met else "NO"


def summary_rows(results: Results) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    tp = results.throughput
    tickets = n(results.scale.throughput_tickets)
    label = f"throughput: tap with defaults / reference wall, {tickets} tickets, no limits"
    same_label = f"throughput: tap / reference wall, {tickets} tickets, same work"
    if tp is not None:
        runs_text = ", ".join(f"{r.defaults_ratio:.2f}" for r in tp.rounds)
        rows.append(
            (
                label,
                f"{tp.defaults_ratio:.2f} (median of {runs_text})",
                f"<= {TARGET_THROUGHPUT:.2f}",
                verdict(tp.defaults_ratio <= TARGET_THROUGHPUT),
            )
        )
        runs_text = ", ".join(f"{r.ratio:.2f}" for r in tp.rounds)
        rows.append(
            (
                same_label,
                f"{tp.ratio:.2f} (median of {runs_text})",
                f"<= {TARGET_SAME_WORK:.2f}",
                verdict(tp.ratio <= TARGET_SAME_WORK),
            )
        )
    else:
        rows.append((label, "FAILED", f"<= {TARGET_THROUGHPUT:.2f}", "-"))
        rows.append((same_label, "FAILED", f"<= {TARGET_SAME_WORK:.2f}", "-"))

    paced_result = results.paced
    label = "paced: full sync wall / rate-limit floor, every default stream"
    if paced_result is not None:
        runs = paced_result.runs
        runs_text = ", ".join(f"{r.ratio:.3f}" for r in runs)
        median_text = f" (median of {runs_text})" if len(runs) > 1 else ""
        value = f"{paced_result.ratio:.3f}{median_text}"
        rows.append(
            (label, value, f"<= {TARGET_PACED:.2f}", verdict(paced_result.ratio <= TARGET_PACED))
        )
        total = paced_result.rate_limited_total
        rows.append(
            ("paced: 429 responses served by the emulator", str(total), "0", verdict(total == 0))
        )
        served = max(r.export_served for r in runs)
        rows.append(
            (
                "paced: export requests served (minimum needed)",
                f"{served} ({paced_result.needed_export})",
                "-",
                "-",
            )
        )
    else:
        rows.append((label, "FAILED", f"<= {TARGET_PACED:.2f}", "-"))
        rows.append(("paced: 429 responses served by the emulator", "FAILED", "0", "-"))

    lat = results.latency
    label = (
        f"latency: small sync ({n(results.scale.latency_tickets)} tickets, every default stream) "
        "under Zendesk's real limits / without limits"
    )
    if lat is not None:
        runs_text = ", ".join(f"{r.ratio:.2f}" for r in lat.rounds)
        rows.append(
            (
                label,
                f"{lat.ratio:.2f} (median of {runs_text})",
                f"<= {TARGET_LATENCY:.2f}",
                verdict(lat.ratio <= TARGET_LATENCY),
            )
        )
        total = lat.rate_limited_total
        rows.append(("latency: 429 responses", str(total), "0", verdict(total == 0)))
    else:
        rows.append((label, "FAILED", f"<= {TARGET_LATENCY:.2f}", "-"))

    mem = results.memory
    small, large = n(results.scale.memory_small), n(results.scale.memory_large)
    label = f"memory: peak RSS {large} / {small} tickets, every default stream"
    if mem is not None:
        for run in (mem.small, mem.large):
            rows.append(
                (
                    f"memory: tap peak RSS, {n(run.tickets)} tickets",
                    f"{run.peak_mib:.1f} MB",
                    "-",
                    "-",
                )
            )
        rows.append(
            (
                label,
                f"{mem.ratio:.3f}",
                f"<= {TARGET_MEMORY:.2f}",
                verdict(mem.ratio <= TARGET_MEMORY),
            )
        )
    else:
        rows.append((label, "FAILED", f"<= {TARGET_MEMORY:.2f}", "-"))

    if paced_result is not None:
        for cost in export_costs(paced_result):
            rows.append(
                (
                    f"requests per 1 000 records: {cost.export} export ({cost.records_stream})",
                    f"{cost.per_thousand:.2f} ({plural(cost.requests, 'request')} / "
                    f"{plural(cost.records, 'record')})",
                    "-",
                    "-",
                )
            )
    return rows


def typed_range(columns: list[str]) -> str:
    """Typed column names, shortened to the first and last when there are many."""
    if len(columns) > 3:
        return f"{columns[0]} ... {columns[-1]}"
    return ", ".join(columns) or "none"


def text_table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def markdown_table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


SUMMARY_HEADER = ("metric", "value", "target", "met?")


def throughput_section(tp: Throughput) -> list[str]:
    return [
        f"### Throughput: {n(tp.tickets)} tickets, the taps and the reference interleaved",
        "",
        "*defaults*: the tap as configured out of the box (typed custom-field columns on); "
        "*tap*: the same work as the reference (`typed_custom_fields: false`, no side-loads).",
        "",
        *markdown_table(
            [
                (
                    str(i),
                    f"{r.defaults_seconds:.2f}",
                    f"{r.tap_seconds:.2f}",
                    f"{r.reference_seconds:.2f}",
                    f"{r.defaults_ratio:.3f}",
                    f"{r.ratio:.3f}",
                    f"{r.defaults_requests} / {r.tap_requests} / {r.reference_requests}",
                )
                for i, r in enumerate(tp.rounds, 1)
            ],
            (
                "round",
                "defaults s",
                "tap s",
                "reference s",
                "defaults / reference",
                "tap / reference",
                "requests defaults / tap / reference",
            ),
        ),
        "",
        f"All three emitted {n(tp.tickets)} ticket RECORDs in every run (taps: their "
        "`record_count` metric; reference: its own count). A validation run into files on "
        f"{n(tp.validation.tickets)} tickets found the same tickets in all outputs, "
        f"{n(tp.validation.same_records)} of them with equal `record` objects from tap and "
        "reference; keys only the tap's RECORD lines carry: "
        f"{', '.join(tp.validation.tap_only_keys) or 'none'}. The defaults tap's records "
        f"equal the reference's without their {len(tp.validation.typed_columns)} typed "
        f"columns ({typed_range(tp.validation.typed_columns)}) for "
        f"{n(tp.validation.same_without_typed)} tickets; it also reads `ticket_fields` once.",
        "",
    ]


def paced_section(paced_result: Paced) -> list[str]:
    last = paced_result.runs[-1]
    other = sorted(
        (stream, count)
        for stream, count in last.requests.items()
        if stream and not any(stream in readers for readers in EXPORT_READERS.values())
    )
    return [
        f"### Paced: {n(paced_result.tickets)} tickets, {n(paced_result.users)} users, "
        f"{n(paced_result.organizations)} organizations, every default stream",
        "",
        f"Emulator: one minute = {TIME_SCALE} s, account limit {ACCOUNT_LIMIT} and export "
        f"limit {EXPORT_LIMIT} requests per window. Tap: its config without a catalog (its "
        "default streams), no `rate_limit_per_minute` / `export_rate_limit_per_minute` (the "
        f"budgets come from the emulator's headers), `rate_limit_window_seconds` {TIME_SCALE}.",
        "",
        *markdown_table(
            [
                (
                    str(i),
                    f"{r.wall_seconds:.2f}",
                    f"{r.export_floor:.2f}",
                    f"{r.account_floor:.2f}",
                    f"{r.ratio:.3f}",
                    f"{r.export_served} ({r.export_needed})",
                    f"{r.account_served} ({r.account_needed})",
                    f"{r.rate_limited['account']} / {r.rate_limited['export']}",
                    f"{r.first_export:.2f} / {r.last_export:.2f}",
                    f"{r.tap_waited:.1f}",
                )
                for i, r in enumerate(paced_result.runs, 1)
            ],
            (
                "run",
                "wall s",
                "export floor s",
                "account floor s",
                "wall / floor",
                "export requests served (needed)",
                "all requests served (needed)",
                "429s account / export",
                "first / last export request at s",
                "tap waited s",
            ),
        ),
        "",
        *markdown_table(
            [
                (
                    f"{export} ({', '.join(EXPORT_READERS[export])})",
                    str(paced_result.needed[export]),
                    str(last.exports[export]),
                    str(sum(last.requests[s] for s in EXPORT_READERS[export])),
                )
                for export, _ in EXPORTS
            ],
            (
                "export (streams reading it)",
                "minimum needed",
                "served",
                "the streams' requests (run summary, with their field definitions)",
            ),
        ),
        "",
        "Account-only requests of the other streams (run summary): "
        + ", ".join(f"{stream} {count}" for stream, count in other)
        + ".",
        "",
    ]


def latency_section(lat: Latency) -> list[str]:
    return [
        f"### Latency: {n(lat.tickets)} tickets, every default stream, real limits vs none",
        "",
        f"Limited: the emulator's minute lasts 60 s, account limit {ACCOUNT_LIMIT}, export "
        f"limit {EXPORT_LIMIT}, a fresh window before each run; the tap with no ceilings and "
        "its default 60 s window. Unlimited: the emulator enforces nothing and the tap's "
        f"ceilings are {n(UNLIMITED_PER_MINUTE)} a minute. The export needs "
        f"{plural(lat.export_requests, 'request')} (minimum), under one window's budget.",
        "",
        *markdown_table(
            [
                (
                    str(i),
                    f"{r.limited_seconds:.2f}",
                    f"{r.unlimited_seconds:.2f}",
                    f"{r.ratio:.3f}",
                    str(r.requests),
                    str(r.rate_limited),
                    f"{r.tap_waited:.1f}",
                )
                for i, r in enumerate(lat.rounds, 1)
            ],
            (
                "round",
                "limited s",
                "unlimited s",
                "limited / unlimited",
                "requests (limited)",
                "429s",
                "tap waited s (limited)",
            ),
        ),
        "",
    ]


def memory_section(mem: Memory) -> list[str]:
    return [
        "### Memory: tap syncing every default stream",
        "",
        *markdown_table(
            [
                (n(r.tickets), f"{r.peak_mib:.1f}", f"{r.wall_seconds:.1f}")
                for r in (mem.small, mem.large)
            ],
            ("tickets", "peak RSS MB", "wall s"),
        ),
        "",
    ]


def projection_section(paced_result: Paced) -> list[str]:
    costs = export_costs(paced_result)
    per_ticket = sum(cost.requests for cost in costs) / paced_result.tickets
    rows = []
    for tickets in PROJECTED_TICKETS:
        requests = per_ticket * tickets
        rows.append(
            (
                n(tickets),
                n(math.ceil(requests)),
                f"{projected_hours(requests, EXPORT_LIMIT):.1f}",
                f"{projected_hours(requests, HIGH_VOLUME_EXPORT_LIMIT):.1f}",
            )
        )
    return [
        "### Projection: full-sync hours",
        "",
        *markdown_table(
            [
                (
                    cost.export,
                    cost.records_stream,
                    n(cost.records),
                    str(cost.requests),
                    f"{cost.per_thousand:.2f}",
                    f"{cost.per_ticket:.2f}",
                )
                for cost in costs
            ],
            (
                "export",
                "records of",
                "records",
                "requests",
                "requests per 1 000 records",
                "records per ticket",
            ),
        ),
        "",
        *markdown_table(
            rows,
            (
                "tickets",
                "export requests",
                f"hours at {EXPORT_LIMIT}/min (standard)",
                f"hours at {HIGH_VOLUME_EXPORT_LIMIT}/min (High Volume)",
            ),
        ),
        "",
        "Scaled linearly from the paced run: each export's requests per 1 000 records times "
        "its records per ticket in the emulator's dataset (users and organizations as the "
        f"paced run sizes them, {n(paced_result.users)} and {n(paced_result.organizations)} "
        f"per {n(paced_result.tickets)} tickets; audits and metric events as the emulator "
        "generates them). Hours = the export floor, (ceil(requests / limit) - 1) minutes: "
        "the export bucket binds a full sync; the account-only streams' requests (listed "
        "above) go on the account budget and add their own serial time. A real account's "
        "proportions differ (more users per ticket, more audits per ticket on busy "
        "accounts): scale by its own counts.",
        "",
    ]


def report(results: Results, command: str) -> str:
    scale = results.scale
    out = ["# Benchmarks", ""]
    if results.quick:
        out += [
            "**Quick smoke run (`--quick`): small datasets, not the benchmark.**",
            "",
        ]
    out += [
        f"Written by `{command}`. Every timing is a ratio of runs made side by side in this "
        "run: the machine is shared, so absolute seconds are noise, ratios much less so.",
        "",
        *markdown_table(summary_rows(results), SUMMARY_HEADER),
        "",
    ]
    if results.source_changed:
        out += [
            "**Warning: `tap_zendesk/` changed while this ran, so these numbers mix tap "
            "versions. Run it again on a quiet tree.**",
            "",
        ]
    if results.failures:
        out += ["## Failures", ""]
        out += [f"- {section}: {message}" for section, message in results.failures.items()]
        out.append("")

    out += ["## Runs", ""]
    if results.throughput is not None:
        out += throughput_section(results.throughput)
    if results.paced is not None:
        out += paced_section(results.paced)
    if results.latency is not None:
        out += latency_section(results.latency)
    if results.memory is not None:
        out += memory_section(results.memory)
    if results.paced is not None:
        out += projection_section(results.paced)

    out += [
        "## How each number is computed",
        "",
        "- **throughput**: the tap (`tap-zendesk --config --catalog`, a catalog selecting only "
        f"`tickets`, `page_size` {PAGE_SIZE}) and `tools/bench_reference.py` (a bare requests + "
        "json loop over `/api/v2/incremental/tickets/cursor.json` printing the same RECORD line "
        "per ticket and a STATE line per page) each run as a subprocess on the same Python, "
        "stdout on /dev/null, stderr to a log, in rounds of tap, tap with defaults, reference. "
        "Wall time includes process start. The emulator enforces no limit, so the taps are "
        f"given `rate_limit_per_minute` = `export_rate_limit_per_minute` = "
        f"{n(UNLIMITED_PER_MINUTE)}. Value = median over rounds of tap wall / reference wall. "
        "With its defaults the tap adds a typed `cf_<field id>` key per ticket field to every "
        "record and reads `ticket_fields` once; for the same work as the reference it is "
        "configured with `typed_custom_fields: false` and no `ticket_sideloads` (and "
        "`ticket_metrics`, which would add `include=metric_sets`, is not selected).",
        "- **paced**: the tap syncs its default streams (no catalog). Floor = the largest, "
        "over the export and account buckets, of (ceil(N / B) - 1) x W, with B the bucket's "
        f"budget per window ({EXPORT_LIMIT} and {ACCOUNT_LIMIT}), W the window ({TIME_SCALE} s) "
        "and N the *minimum* requests on the bucket: the export bucket's N pages each export "
        "once through the emulator's dataset exactly as its HTTP side would (tickets, users, "
        "organizations, the ticket events export once, metric events); the account bucket's N "
        "is those plus each distinct account-only request the tap made (a page read twice "
        "counts once). That is the least time from the first request to the last one a "
        "bucket allows, the first window's budget going at once; the time the requests "
        "themselves take, and process start, are counted against the tap (the smallest "
        "floor, so the strictest ratio). Value = tap wall time / floor. The emulator's "
        "windows are fixed and start just before the tap starts.",
        "- **429s**: the emulator's `rate_limited_total` over the run(s).",
        "- **latency**: rounds of the limited and the unlimited run of the tap's default "
        "streams (no catalog) against one emulator, reconfigured between runs; value = median "
        "over rounds of limited wall / unlimited wall.",
        "- **memory**: the tap with its defaults and no catalog (every default stream), no "
        "limits, started by a fresh `python -c` wrapper that prints "
        "`getrusage(RUSAGE_CHILDREN).ru_maxrss`, so each value is that one process's peak. "
        "MB = 2^20 bytes. One run per size. The larger size is what the emulator serves in a "
        "few minutes on this machine with every default stream.",
        "- **requests per 1 000 records**: the export requests the emulator served in the "
        "paced run, per export, over the records (the tap's run summary) of the stream with "
        "one record per export item. Records from the run summary, because "
        "the SDK's `record_count` METRIC of ticket_comments and ticket_events stays 0 when "
        "the one reader of their export writes their records.",
        "- Record counts of tickets, users, organizations, comments, audits, ticket events "
        "and metric events are checked in every paced, latency and memory run against the "
        "emulator's dataset; a wrong count or a failed run makes the command exit 1.",
        "",
        "## Machine",
        "",
        *(f"- {key}: {value}" for key, value in results.machine.items()),
        "",
        "## Reproduce",
        "",
        "```sh",
        "make bench" + ("   # this file: python -m tools.bench --quick" if results.quick else ""),
        "```",
        "",
        f"Scale: {dataclasses.asdict(scale)}.",
        "",
    ]
    return "\n".join(out)


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small datasets: a smoke run")
    parser.add_argument("--tickets", type=int, help="tickets in the throughput run")
    parser.add_argument("--runs", type=int, default=3, help="throughput rounds (default 3)")
    parser.add_argument("--repeat", type=int, default=1, help="paced runs (default 1)")
    parser.add_argument(
        "--only",
        choices=("throughput", "paced", "latency", "memory"),
        action="append",
        help="run only these sections (repeatable); the report then lacks the others",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="report file (default BENCHMARKS.md; with --quick or --only, the workdir's)",
    )
    parser.add_argument("--workdir", type=Path, help="configs and logs (default: a new temp dir)")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.repeat < 1 or (args.tickets is not None and args.tickets < 1):
        parser.error("--runs, --repeat and --tickets must be at least 1")

    scale = QUICK if args.quick else FULL
    if args.tickets is not None:
        scale = dataclasses.replace(scale, throughput_tickets=args.tickets)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="tap-zendesk-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    partial = args.quick or bool(args.only)
    output = args.output or (workdir / "BENCHMARKS.md" if partial else REPO / "BENCHMARKS.md")
    sections = set(args.only or ("throughput", "paced", "latency", "memory"))

    def log(message: str) -> None:
        print(message, flush=True)

    log(f"tap-zendesk benchmark{' (quick)' if args.quick else ''}; logs in {workdir}")
    results = Results(scale, args.quick)
    started = time.perf_counter()

    def attempt(name: str, section: Callable[[], Any]) -> Any:
        if name not in sections:
            return None
        log(f"{name} ...")
        try:
            return section()
        except BenchError as exc:
            # One broken section must not hide the others' numbers.
            results.failures[name] = str(exc)
            log(f"  FAILED: {exc}")
            return None

    results.throughput = attempt("throughput", lambda: throughput(scale, args.runs, workdir, log))
    results.paced = attempt("paced", lambda: paced(scale, args.repeat, workdir, log))
    results.latency = attempt("latency", lambda: latency(scale, LATENCY_ROUNDS, workdir, log))
    results.memory = attempt("memory", lambda: memory(scale, workdir, log))

    results.source_changed = source_fingerprint() != results.source_at_start
    log("")
    log(text_table(summary_rows(results), SUMMARY_HEADER))
    if results.source_changed:
        log("\nWARNING: tap_zendesk/ changed during the run; the numbers mix tap versions.")
    command = " ".join(["python -m tools.bench", *(sys.argv[1:] if argv is None else argv)])
    output.write_text(report(results, command))
    log(f"\n{time.perf_counter() - started:.0f} s in all; report written to {output}")
    if results.failures:
        log("FAILED: " + "; ".join(f"{k}: {v}" for k, v in results.failures.items()))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
