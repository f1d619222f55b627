"""`make bench`: how fast, how polite and how lean the tap is, against the bundled emulator.

    python -m tests.bench            # the full benchmark (5-6 minutes); writes BENCHMARKS.md
    python -m tests.bench --quick    # a small smoke run while developing; writes to its workdir

The machine is shared and noisy, so every timing is a ratio of two things measured side by side
in the same run, never an absolute number of seconds:

1. throughput: the tap syncing only `tickets` (100 000 of them) against a bare requests + json
   loop printing the same Singer lines (tests/bench_reference.py): the tap set up for the same
   work (no typed custom-field columns, no side-loads), and the tap with its defaults (typed
   columns on) to show what those cost; three rounds of tap, tap with defaults, reference,
   median of the per-round ratios.
2. paced: six streams against an emulator whose minute lasts 3 s and whose account and export
   limits are 100 and 10 requests a minute; the tap's wall time over the floor those limits
   impose on the requests it needed, and how many 429s the emulator had to send.
3. memory: the tap's peak RSS syncing 10 000 and 200 000 tickets, and their ratio.
4. requests per 1 000 records, per stream, from the paced run's METRIC lines.

The emulator runs in this process on a background thread; the tap and the reference are
subprocesses writing stdout to /dev/null and stderr to a log in the workdir. The command exits
0 when targets are missed (it measures, it does not judge) and 1 when a run failed or emitted
the wrong number of records.
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

from tests.conftest import catalog_for
from tests.emulator import Dataset, Emulator
from tests.emulator.exports import start_position
from tests.emulator.server import Response

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

# The paced run: one emulated minute lasts TIME_SCALE seconds.
TIME_SCALE = 3.0
ACCOUNT_LIMIT = 100
EXPORT_LIMIT = 10
PACED_STREAMS = (
    "tickets",
    "users",
    "organizations",
    "ticket_comments",
    "ticket_audits",
    "ticket_metric_events",
)
# The export each paced stream reads (README stream table): comments and audits both read the
# ticket events export, so a full sync reads it twice.
STREAM_EXPORT = {
    "tickets": ("tickets", "cursor"),
    "users": ("users", "cursor"),
    "organizations": ("organizations", "time"),
    "ticket_comments": ("ticket_events", "time"),
    "ticket_audits": ("ticket_events", "time"),
    "ticket_metric_events": ("ticket_metric_events", "time"),
}
EXPORT_PREFIX = "/api/v2/incremental/"

TARGET_THROUGHPUT = 1.5
TARGET_PACED = 1.10
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
    memory_small: int
    memory_large: int


FULL = Scale(100_000, 2_500, 10_000, 2_000, 400, 10_000, 200_000)
QUICK = Scale(5_000, 1_000, 1_000, 200, 40, 1_000, 20_000)


# --------------------------------------------------------------------------- helpers


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
    which path an account-bucket 429 hit; the floor needs the exact served counts.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._tally_lock = threading.Lock()
        self.served: Counter[str] = Counter()

    def api_response(
        self, method: str, path: str, query: Mapping[str, str], auth: str | None, consume: bool
    ) -> Response:
        response = super().api_response(method, path, query, auth, consume)
        if response.status != 429:
            with self._tally_lock:
                self.served["account"] += 1
                if path.startswith(EXPORT_PREFIX):
                    self.served["export"] += 1
        return response

    def reset_tally(self) -> None:
        with self._tally_lock:
            self.served = Counter()


@dataclasses.dataclass
class PacedRun:
    wall_seconds: float
    export_served: int
    account_served: int
    rate_limited: dict[str, int]
    requests: Counter[str]
    records: Counter[str]

    @property
    def floor_seconds(self) -> float:
        """The least time the limits allow for the requests served: the busiest bucket's."""
        return TIME_SCALE * max(
            self.export_served / EXPORT_LIMIT, self.account_served / ACCOUNT_LIMIT
        )

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
        return sum(self.needed[stream] for stream in PACED_STREAMS)

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
    needed = {stream: export_requests(dataset, *STREAM_EXPORT[stream]) for stream in PACED_STREAMS}
    expected = {
        "tickets": len(dataset.truth("tickets")),
        "users": len(dataset.truth("users")),
        "organizations": len(dataset.truth("organizations")),
        "ticket_comments": len(dataset.comments()),
        "ticket_audits": len(dataset.truth("ticket_events")),
        "ticket_metric_events": len(dataset.truth("ticket_metric_events")),
    }
    result = Paced(scale.paced_tickets, scale.paced_users, scale.paced_organizations, needed, [])
    serve(emulator)
    try:
        config = tap_config(
            emulator,
            rate_limit_per_minute=per_minute(ACCOUNT_LIMIT, TIME_SCALE),
            export_rate_limit_per_minute=per_minute(EXPORT_LIMIT, TIME_SCALE),
        )
        args = tap_files(workdir, "paced", config, PACED_STREAMS)
        for run in range(1, repeat + 1):
            tap_log = workdir / f"paced-tap-{run}.log"
            emulator.reset_stats()
            emulator.reset_tally()
            # A new time_scale starts a fresh window with full budgets, as a real account has
            # after a quiet minute, and the same for every repetition.
            emulator.configure(time_scale=TIME_SCALE)
            wall = run_timed([TAP, *args], tap_log)
            stats = emulator.stats
            counters = metric_counters(tap_log)
            records = counters.get("record_count", Counter())
            wrong = {s: records[s] for s in PACED_STREAMS if records[s] != expected[s]}
            if wrong:
                raise BenchError(
                    f"paced run {run}: records {wrong}, expected "
                    f"{ {s: expected[s] for s in wrong} }; see {tap_log}"
                )
            paced_run = PacedRun(
                wall,
                emulator.served["export"],
                emulator.served["account"],
                dict(stats["rate_limited"]),
                counters.get("http_request_count", Counter()),
                records,
            )
            result.runs.append(paced_run)
            log(
                f"  paced {run}/{repeat}: {wall:.1f} s, floor {paced_run.floor_seconds:.1f} s, "
                f"ratio {paced_run.ratio:.3f}, 429s {paced_run.rate_limited_total}"
            )
    finally:
        release(emulator)
    return result


# --------------------------------------------------------------------------- 3. memory


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
    emulator = serve(Emulator(tickets=tickets, users=10, organizations=10))
    try:
        config = tap_config(
            emulator,
            rate_limit_per_minute=UNLIMITED_PER_MINUTE,
            export_rate_limit_per_minute=UNLIMITED_PER_MINUTE,
        )
        args = tap_files(workdir, f"memory-{tickets}", config, ["tickets"])
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
    if (records := tap_records(tap_log, "tickets")) != tickets:
        raise BenchError(f"the tap emitted {records} tickets, not {tickets}; see {tap_log}")
    try:
        peak_kib = int(done.stdout.split()[-1])
    except (IndexError, ValueError) as exc:
        raise BenchError(f"the RSS wrapper printed {done.stdout!r}, not a number") from exc
    return MemoryRun(tickets, peak_kib, wall)


def memory(scale: Scale, workdir: Path, log: Callable[[str], None]) -> Memory:
    small = peak_rss(scale.memory_small, workdir)
    log(f"  memory {n(small.tickets)} tickets: {small.peak_mib:.1f} MiB")
    large = peak_rss(scale.memory_large, workdir)
    log(f"  memory {n(large.tickets)} tickets: {large.peak_mib:.1f} MiB")
    return Memory(small, large)


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
    label = f"throughput: tap / reference wall, {tickets} tickets, same work"
    defaults_label = (
        f"throughput: tap with defaults / reference wall, {tickets} tickets, typed columns"
    )
    if tp is not None:
        runs_text = ", ".join(f"{r.ratio:.2f}" for r in tp.rounds)
        value = f"{tp.ratio:.2f} (median of {runs_text})"
        rows.append(
            (label, value, f"<= {TARGET_THROUGHPUT:.2f}", verdict(tp.ratio <= TARGET_THROUGHPUT))
        )
        runs_text = ", ".join(f"{r.defaults_ratio:.2f}" for r in tp.rounds)
        rows.append((defaults_label, f"{tp.defaults_ratio:.2f} (median of {runs_text})", "-", "-"))
    else:
        rows.append((label, "FAILED", f"<= {TARGET_THROUGHPUT:.2f}", "-"))
        rows.append((defaults_label, "FAILED", "-", "-"))

    paced_result = results.paced
    label = "paced: tap wall / rate-limit floor, 6 streams"
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

    mem = results.memory
    small, large = n(results.scale.memory_small), n(results.scale.memory_large)
    if mem is not None:
        rows.append(
            (f"memory: tap peak RSS, {small} tickets", f"{mem.small.peak_mib:.1f} MB", "-", "-")
        )
        rows.append(
            (f"memory: tap peak RSS, {large} tickets", f"{mem.large.peak_mib:.1f} MB", "-", "-")
        )
        rows.append(
            (
                f"memory: peak RSS {large} / {small} tickets",
                f"{mem.ratio:.3f}",
                f"<= {TARGET_MEMORY:.2f}",
                verdict(mem.ratio <= TARGET_MEMORY),
            )
        )
    else:
        rows.append(
            (
                f"memory: peak RSS {large} / {small} tickets",
                "FAILED",
                f"<= {TARGET_MEMORY:.2f}",
                "-",
            )
        )

    if paced_result is not None:
        run = paced_result.runs[-1]
        for stream in PACED_STREAMS:
            requests, records = run.requests[stream], run.records[stream]
            rate = f"{1000 * requests / records:.2f}" if records else "n/a"
            rows.append(
                (
                    f"requests per 1 000 records: {stream}",
                    f"{rate} ({plural(requests, 'request')} / {plural(records, 'record')})",
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
    tp = results.throughput
    if tp is not None:
        out += [
            f"### Throughput: {n(tp.tickets)} tickets, the taps and the reference interleaved",
            "",
            "*tap*: same work as the reference (`typed_custom_fields: false`, no side-loads); "
            "*defaults*: the tap as configured out of the box (typed custom-field columns on).",
            "",
            *markdown_table(
                [
                    (
                        str(i),
                        f"{r.tap_seconds:.2f}",
                        f"{r.defaults_seconds:.2f}",
                        f"{r.reference_seconds:.2f}",
                        f"{r.ratio:.3f}",
                        f"{r.defaults_ratio:.3f}",
                        f"{r.tap_requests} / {r.defaults_requests} / {r.reference_requests}",
                    )
                    for i, r in enumerate(tp.rounds, 1)
                ],
                (
                    "round",
                    "tap s",
                    "defaults s",
                    "reference s",
                    "tap / reference",
                    "defaults / reference",
                    "requests tap / defaults / reference",
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
    paced_result = results.paced
    if paced_result is not None:
        out += [
            f"### Paced: {n(paced_result.tickets)} tickets, {n(paced_result.users)} users, "
            f"{n(paced_result.organizations)} organizations",
            "",
            f"Emulator: one minute = {TIME_SCALE:g} s, account limit {ACCOUNT_LIMIT} and export "
            f"limit {EXPORT_LIMIT} requests per window. Tap: `rate_limit_per_minute` "
            f"{per_minute(ACCOUNT_LIMIT, TIME_SCALE)}, `export_rate_limit_per_minute` "
            f"{per_minute(EXPORT_LIMIT, TIME_SCALE)}.",
            "",
            *markdown_table(
                [
                    (
                        str(i),
                        f"{r.wall_seconds:.2f}",
                        f"{r.floor_seconds:.2f}",
                        f"{r.ratio:.3f}",
                        f"{r.export_served} ({paced_result.needed_export})",
                        str(r.account_served),
                        f"{r.rate_limited['account']} / {r.rate_limited['export']}",
                    )
                    for i, r in enumerate(paced_result.runs, 1)
                ],
                (
                    "run",
                    "wall s",
                    "floor s",
                    "wall / floor",
                    "export requests served (needed)",
                    "all requests served",
                    "429s account / export",
                ),
            ),
            "",
            *markdown_table(
                [
                    (
                        stream,
                        n(paced_result.runs[-1].records[stream]),
                        str(paced_result.runs[-1].requests[stream]),
                        str(paced_result.needed[stream]),
                    )
                    for stream in PACED_STREAMS
                ],
                ("stream", "records", "requests (tap METRIC)", "minimum needed"),
            ),
            "",
        ]
    mem = results.memory
    if mem is not None:
        out += [
            "### Memory: tap syncing only tickets",
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

    out += [
        "## How each number is computed",
        "",
        "- **throughput**: the tap (`tap-zendesk --config --catalog`, a catalog selecting only "
        f"`tickets`, `page_size` {PAGE_SIZE}) and `tests/bench_reference.py` (a bare requests + "
        "json loop over `/api/v2/incremental/tickets/cursor.json` printing the same RECORD line "
        "per ticket and a STATE line per page) each run as a subprocess on the same Python, "
        "stdout on /dev/null, stderr to a log, in rounds of tap, tap with defaults, reference. "
        "Wall time includes process start. For the same work as the reference the tap is "
        "configured with `typed_custom_fields: false` and no `ticket_sideloads` (and "
        "`ticket_metrics`, which would add `include=metric_sets`, is not selected): value = "
        "median over rounds of tap wall / reference wall. The second value is the same for the "
        "tap with its defaults, whose typed custom-field columns add a `cf_<field id>` key per "
        "ticket field to every record and one `ticket_fields` request: their cost. The "
        "emulator enforces no limit, so the taps are given "
        f"`rate_limit_per_minute` = `export_rate_limit_per_minute` = {n(UNLIMITED_PER_MINUTE)}.",
        "- **paced**: the tap syncs "
        + ", ".join(f"`{s}`" for s in PACED_STREAMS)
        + ". Floor = max(export requests served / "
        f"{EXPORT_LIMIT}, all requests served / {ACCOUNT_LIMIT}) x {TIME_SCALE:g} s, counting "
        "only requests the emulator answered with something other than 429. Value = tap wall "
        "time (process start included, so a perfect tap scores slightly above 1) / floor. The "
        "emulator starts a fresh rate window just before the tap starts. 'Minimum needed' "
        "pages each export through the emulator's dataset exactly as its HTTP side would "
        "(the ticket events export counts twice: comments and audits each read it). The tap "
        "runs with its defaults and a catalog selecting exactly these streams (so no "
        "side-loads, `ticket_metrics` or `ticket_field_history`): with typed custom-field "
        "columns, tickets, users and organizations each also read their field definitions "
        "(one account request each), which the tap's METRIC counts include and 'minimum "
        "needed' (exports only) does not.",
        "- **429s**: the emulator's `rate_limited_total` over the paced run(s).",
        "- **memory**: the tap with its defaults, a catalog selecting only `tickets`, no "
        "limits, started by a fresh "
        "`python -c` wrapper that prints `getrusage(RUSAGE_CHILDREN).ru_maxrss`, so each "
        "value is that one process's peak. MB = 2^20 bytes. One run per size.",
        "- **requests per 1 000 records**: the paced run's tap log, summing the METRIC "
        "`http_request_count` and `record_count` deltas per `tags.stream`.",
        "- Record counts are checked in every run against the emulator's dataset; a wrong count "
        "or a failed run makes the command exit 1.",
        "",
        "## Machine",
        "",
        *(f"- {key}: {value}" for key, value in results.machine.items()),
        "",
        "## Reproduce",
        "",
        "```sh",
        "make bench" + ("   # this file: python -m tests.bench --quick" if results.quick else ""),
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
    parser.add_argument("--runs", type=int, default=3, help="throughput pairs (default 3)")
    parser.add_argument("--repeat", type=int, default=1, help="paced runs (default 1)")
    parser.add_argument(
        "--output",
        type=Path,
        help="report file (default BENCHMARKS.md; with --quick, the workdir's)",
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
    output = args.output or (workdir / "BENCHMARKS.md" if args.quick else REPO / "BENCHMARKS.md")

    def log(message: str) -> None:
        print(message, flush=True)

    log(f"tap-zendesk benchmark{' (quick)' if args.quick else ''}; logs in {workdir}")
    results = Results(scale, args.quick)
    started = time.perf_counter()

    def attempt(name: str, section: Callable[[], Any]) -> Any:
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
    results.memory = attempt("memory", lambda: memory(scale, workdir, log))

    results.source_changed = source_fingerprint() != results.source_at_start
    log("")
    log(text_table(summary_rows(results), SUMMARY_HEADER))
    if results.source_changed:
        log("\nWARNING: tap_zendesk/ changed during the run; the numbers mix tap versions.")
    command = " ".join(["python -m tests.bench", *(sys.argv[1:] if argv is None else argv)])
    output.write_text(report(results, command))
    log(f"\n{time.perf_counter() - started:.0f} s in all; report written to {output}")
    if results.failures:
        log("FAILED: " + "; ".join(f"{k}: {v}" for k, v in results.failures.items()))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
