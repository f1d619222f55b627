"""SIGKILL at 10 random moments; each rerun from the last STATE; nothing lost.

A target keeps whatever a killed tap wrote and the last STATE it saw. Rerunning from that STATE
must bring every record that was not yet emitted, and repeat only what the killed run emitted
after its last STATE: the page that was in flight. A SIGTERM ends the run with a STATE to
resume from.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import random
import signal
import subprocess
import time
import typing as t

import pytest

from tests.emulator import FaultRule
from tests.support.tap import TAP, TapRun, assert_no_secrets, config_for

PAGE = 20
# The incremental streams, in the order the tap syncs them.
STREAMS = (
    "organizations",
    "ticket_audits",
    "ticket_comments",
    "ticket_metric_events",
    "tickets",
    "users",
)
# Their records are one per export item, so one page holds at most PAGE of them. A page of
# ticket events holds PAGE audits but any number of comments.
ONE_RECORD_PER_ITEM = frozenset(STREAMS) - {"ticket_comments"}
COMMENT_EVENTS = ("Comment", "VoiceComment")


@dataclasses.dataclass
class Run:
    """What one tap process wrote before it ended or was killed."""

    messages: list[dict[str, t.Any]]
    returncode: int
    stdout: str
    stderr: str
    # Seconds from the signal to the end of the process; None if no signal was sent.
    exit_seconds: float | None = None

    def ids(self, stream: str) -> set[int]:
        return {m["record"]["id"] for m in self._records(self.messages, stream)}

    @property
    def last_state(self) -> dict[str, t.Any] | None:
        states = [m["value"] for m in self.messages if m["type"] == "STATE"]
        return states[-1] if states else None

    def ids_after_last_state(self, stream: str) -> set[int]:
        """Records written after the last STATE: not bookmarked, so due again on resume."""
        states = [i for i, m in enumerate(self.messages) if m["type"] == "STATE"]
        after = self.messages[states[-1] :] if states else self.messages
        return {m["record"]["id"] for m in self._records(after, stream)}

    @staticmethod
    def _records(messages: list[dict[str, t.Any]], stream: str) -> t.Iterator[dict[str, t.Any]]:
        return (m for m in messages if m["type"] == "RECORD" and m["stream"] == stream)


@pytest.fixture
def small_emulator(make_emulator):
    return make_emulator(tickets=150, users=40, organizations=20)


@pytest.fixture
def start_tap(small_emulator, tmp_path):
    """Start the tap on `small_emulator` (page size PAGE), optionally from a state.

    stderr goes to a file: a pipe nobody reads while the tap runs could fill up and stall it.
    """
    config = tmp_path / "config.json"
    config.write_text(json.dumps(config_for(small_emulator, page_size=PAGE)))
    started: list[subprocess.Popen] = []

    def start(state: dict[str, t.Any] | None) -> subprocess.Popen:
        n = len(started)
        command = [*TAP, "--config", str(config)]
        if state is not None:
            path = tmp_path / f"state{n}.json"
            path.write_text(json.dumps(state))
            command += ["--state", str(path)]
        with (tmp_path / f"stderr{n}.log").open("w") as stderr:
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True)
        process.stderr_path = tmp_path / f"stderr{n}.log"  # type: ignore[attr-defined]
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def _read(
    process: subprocess.Popen,
    stop: t.Callable[[dict[str, t.Any]], bool] = lambda _: False,
    sig: int = signal.SIGKILL,
) -> Run:
    """Read messages until `stop` says so, send `sig`, then read what is left to EOF."""
    assert process.stdout is not None
    lines: list[str] = []
    messages: list[dict[str, t.Any]] = []
    signalled_at = None
    for line in process.stdout:
        if not line.endswith("\n"):
            break  # the last line was cut by the kill; a target would discard it too
        lines.append(line)
        messages.append(json.loads(line))
        if signalled_at is None and stop(messages[-1]):
            process.send_signal(sig)
            signalled_at = time.monotonic()
    process.wait(timeout=60)
    took = None if signalled_at is None else time.monotonic() - signalled_at
    stderr = process.stderr_path.read_text()  # type: ignore[attr-defined]
    return Run(messages, process.returncode, "".join(lines), stderr, took)


def _truth(emulator) -> dict[str, set[int]]:
    """The id of every record each stream must end up with."""
    dataset = emulator.dataset
    events = dataset.ticket_events(include_comments=True)
    truth = {kind: set(dataset.ids(kind)) for kind in ("tickets", "users", "organizations")}
    truth["ticket_audits"] = {event["id"] for event in events}
    truth["ticket_comments"] = {
        child["id"]
        for event in events
        for child in event.get("child_events") or []
        if child.get("event_type") in COMMENT_EVENTS
    }
    truth["ticket_metric_events"] = {event["id"] for event in dataset.metric_events()}
    return truth


def _kill_moments(truth: dict[str, set[int]], rng: random.Random, n: int) -> list[int]:
    """`n` points in the sync's progress (records seen so far), at least one in each stream."""
    bases, base = {}, 0
    for stream in STREAMS:
        bases[stream], base = base, base + len(truth[stream])
    streams = [*STREAMS, *rng.choices(STREAMS, k=n - len(STREAMS))]
    return sorted(bases[s] + rng.randrange(1, len(truth[s])) for s in streams)


def test_ten_sigkills_at_random_moments_then_a_rerun_lose_nothing(small_emulator, start_tap):
    truth = _truth(small_emulator)
    assert all(truth.values())
    seen: dict[str, set[int]] = {stream: set() for stream in STREAMS}
    runs: list[Run] = []
    state = None

    for moment in _kill_moments(truth, random.Random(20240611), 10):
        new_in_run = 0

        def reached(message: dict[str, t.Any], moment: int = moment) -> bool:
            """Kill once the records seen over all runs reach `moment` and this run added one."""
            nonlocal new_in_run
            if message["type"] != "RECORD" or message["stream"] not in seen:
                return False
            ids = seen[message["stream"]]
            if message["record"]["id"] not in ids:
                ids.add(message["record"]["id"])
                new_in_run += 1
            return new_in_run > 0 and sum(map(len, seen.values())) >= moment

        run = _read(start_tap(state), reached)
        runs.append(run)
        for stream in STREAMS:
            seen[stream] |= run.ids(stream)
        # Killed before its first STATE, a run leaves the target at the previous one.
        state = run.last_state or state

    final = _read(start_tap(state))
    assert final.returncode == 0, final.stderr
    runs.append(final)

    # The moments fell while the tap was running: (nearly) every run died by the signal.
    assert sum(run.returncode == -signal.SIGKILL for run in runs[:-1]) >= 8
    for stream in STREAMS:
        union = set().union(*(run.ids(stream) for run in runs))
        assert union == truth[stream], stream
    for killed, rerun in itertools.pairwise(runs):
        for stream in STREAMS:
            unbookmarked = killed.ids_after_last_state(stream)
            # Only what the killed run wrote after its last STATE comes again.
            assert rerun.ids(stream) & killed.ids(stream) <= unbookmarked, stream
            if stream in ONE_RECORD_PER_ITEM:
                assert len(unbookmarked) <= PAGE, stream


def _after_records(n: int) -> t.Callable[[dict[str, t.Any]], bool]:
    """Stop once `n` records have been read."""
    count = 0

    def reached(message: dict[str, t.Any]) -> bool:
        nonlocal count
        count += message["type"] == "RECORD"
        return count >= n

    return reached


def _in_first_request_of(stream: str) -> t.Callable[[dict[str, t.Any]], bool]:
    """Stop half a second after `stream` began (its SCHEMA comes just before its first request),
    so that the request is under way."""

    def begun(message: dict[str, t.Any]) -> bool:
        if message["type"] == "SCHEMA" and message["stream"] == stream:
            time.sleep(0.5)
            return True
        return False

    return begun


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
@pytest.mark.parametrize(
    "moment",
    [
        "amid-export-records",
        # The forms' conditions are full-table streams: their records move no bookmark.
        "waiting-for-zendesk-after-full-table-records",
    ],
)
def test_sigterm_stops_the_run_and_its_last_message_is_a_state(
    small_emulator, start_tap, moment, signum
):
    if moment == "amid-export-records":
        stop = _after_records(300)
    else:
        small_emulator.add_faults(FaultRule("/api/v2/ticket_forms", "slow", slow_seconds=2))
        stop = _in_first_request_of("ticket_form_agent_conditions")

    stopped = _read(start_tap(None), stop, signum)

    assert stopped.exit_seconds is not None, "the run finished before SIGTERM came"
    assert stopped.returncode == 128 + signum
    assert "Traceback" not in stopped.stderr
    assert_no_secrets(TapRun(stopped.returncode, stopped.stdout, stopped.stderr), small_emulator)
    assert stopped.messages[-1]["type"] == "STATE", [
        (m["type"], m.get("stream")) for m in stopped.messages[-3:]
    ]


def test_sigterm_while_a_request_hangs_exits_at_once(small_emulator, start_tap):
    # The very first request (organizations) answers only after 5 s.
    small_emulator.add_faults(
        FaultRule("/api/v2/incremental/organizations", "slow", slow_seconds=5)
    )

    stopped = _read(start_tap(None), _in_first_request_of("organizations"), signal.SIGTERM)

    assert stopped.exit_seconds is not None
    assert stopped.returncode != 0
    assert stopped.exit_seconds < 2.5, "SIGTERM waited for the request in flight"


def _requests(emulator, prefix: str) -> int:
    paths = emulator.stats["requests_by_path"]
    return sum(count for path, count in paths.items() if path.startswith(prefix))


def test_sigterm_while_the_target_is_slow_to_read_still_ends_with_a_state(
    small_emulator, start_tap
):
    """A tap feeding a slower target spends its time waiting to write to a full pipe.

    Whether SIGTERM lands inside one of those writes, rather than between them, depends on the
    pipe at that instant (about one try in five), so several taps are stopped at once.
    """
    processes = [start_tap(None) for _ in range(6)]
    # The target reads nothing: once every tap is syncing, its pipe fills and it waits to write.
    deadline = time.monotonic() + 30
    # Discovery reads the ticket fields first: from then on each tap is writing.
    while _requests(small_emulator, "/api/v2/ticket_fields") < len(processes):
        assert time.monotonic() < deadline, "the taps did not start"
        time.sleep(0.1)
    time.sleep(1.5)
    for process in processes:
        process.send_signal(signal.SIGTERM)

    for stopped in [_read(process) for process in processes]:
        assert stopped.returncode != 0, "the run finished before SIGTERM came"
        assert "Traceback" not in stopped.stderr, stopped.stderr[-1500:]
        assert stopped.messages[-1]["type"] == "STATE", [
            (m["type"], m.get("stream")) for m in stopped.messages[-3:]
        ]


def test_a_rerun_from_the_state_a_sigterm_left_completes_every_stream(
    small_emulator, start_tap, run_tap
):
    truth = _truth(small_emulator)
    stopped = _read(start_tap(None), _after_records(300), signal.SIGTERM)
    assert stopped.exit_seconds is not None, "the run finished before SIGTERM came"

    rerun = run_tap(config_for(small_emulator, page_size=PAGE), state=stopped.last_state)

    assert rerun.returncode == 0, rerun.stderr
    for stream in STREAMS:
        again = stopped.ids(stream) & set(rerun.ids(stream))
        assert stopped.ids(stream) | set(rerun.ids(stream)) == truth[stream], stream
        # Only the page in flight comes again.
        if stream in ONE_RECORD_PER_ITEM:
            assert len(again) <= PAGE, stream
    assert_no_secrets(rerun, small_emulator)
