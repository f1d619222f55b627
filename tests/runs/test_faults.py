"""With faults injected into 10 % of responses, a full sync emits exactly what a clean sync emits.

Transient failures (429s, 5xx, dropped, cut or slow responses, 200s with a maintenance page or
no body) are waited out or retried and cost nothing. Answers that are well-formed but wrong (a
200 of another shape, a redirect to another host) stop the sync with one line instead.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections import Counter

import pytest

from tap_zendesk.tap import TapZendesk
from tests.emulator import FaultRule
from tests.emulator.faults import KINDS
from tests.support.tap import assert_no_secrets, config_for

TICKETS_EXPORT = "/api/v2/incremental/tickets/cursor.json"
# Every kind a client should retry through: all but the two the tap stops on by design.
TRANSIENT_KINDS = [kind for kind in KINDS if kind not in {"wrong_shape", "redirect"}]


@pytest.fixture
def small_emulator(make_emulator):
    return make_emulator(tickets=150, users=40, organizations=20)


def _by_stream(run) -> dict[str, list[dict]]:
    streams: dict[str, list[dict]] = {}
    for message in run.messages:
        if message["type"] == "SCHEMA":
            streams.setdefault(message["stream"], [])
        elif message["type"] == "RECORD":
            streams[message["stream"]].append(message["record"])
    return streams


def _key_properties(run) -> dict[str, tuple[str, ...]]:
    return {m["stream"]: tuple(m["key_properties"]) for m in run.messages if m["type"] == "SCHEMA"}


def _keys(key: tuple[str, ...], records: list[dict]) -> set[tuple]:
    return {tuple(record[name] for name in key) for record in records}


def _mentioning(text: str, lines: list[str]) -> int:
    """How many lines say `text`: the reason is told once, not repeated by every layer."""
    return sum(text in line for line in lines)


def _dumps(records: list[dict]) -> list[str]:
    return sorted(json.dumps(record, sort_keys=True) for record in records)


def test_a_sync_with_10_percent_faults_emits_exactly_what_a_clean_sync_emits(
    small_emulator, run_tap
):
    emulator = small_emulator
    # A slow response (2 s) outlasts request_timeout (1 s): the tap must give up and retry.
    config = config_for(emulator, page_size=50, max_retries=8, request_timeout=1)
    clean = run_tap(config)
    assert clean.returncode == 0, clean.stderr
    emulator.reset_stats()
    # Seeded: this seed's 11 faults span 8 kinds, slowness included, and cost about 12 s.
    emulator.configure(fault_rate=0.1, fault_kinds=TRANSIENT_KINDS, fault_seed=23, slow_seconds=2)

    faulty = run_tap(config)

    assert faulty.returncode == 0, faulty.stderr
    expected, got = _by_stream(clean), _by_stream(faulty)
    # Every stream is selected by default and has records to compare.
    offered = TapZendesk(config=config, parse_env_config=False).streams
    assert sorted(expected) == sorted(offered)
    assert all(expected.values()), {stream: len(rows) for stream, rows in expected.items()}
    assert sorted(got) == sorted(expected)
    keys = _key_properties(clean)
    assert _key_properties(faulty) == keys
    for stream, records in expected.items():
        assert _keys(keys[stream], got[stream]) == _keys(keys[stream], records), stream
        assert _dumps(got[stream]) == _dumps(records), stream
    faults = emulator.stats["faults_by_kind"]
    assert sum(faults.values()) >= 8, faults
    assert len(faults) >= 6, faults
    assert "Traceback" not in faulty.stderr
    assert_no_secrets(clean, emulator)
    assert_no_secrets(faulty, emulator)


def test_a_200_of_another_shape_stops_with_one_line(small_emulator, run_tap):
    emulator = small_emulator
    emulator.add_faults(FaultRule(path_prefix=TICKETS_EXPORT, kind="wrong_shape"))

    run = run_tap(config_for(emulator, page_size=50, max_retries=8))

    assert run.returncode == 1
    assert run.error_lines[-1].endswith(
        "tickets: unexpected response from /incremental/tickets/cursor.json: "
        "the page has no 'tickets' list of objects"
    )
    assert _mentioning("unexpected response", run.error_lines) == 1
    assert "Traceback" not in run.stderr
    # Not retried: the same question would get the same wrong answer.
    assert emulator.stats["requests_by_path"][TICKETS_EXPORT] == 1
    assert_no_secrets(run, emulator)


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Whatever listens on the host a redirect points at: remembers who knocked."""

    seen: Counter[str]

    def do_GET(self) -> None:
        self.seen[self.headers.get("Authorization") or "no auth"] += 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def other_host(small_emulator):
    """A server on 127.0.0.2 at the emulator's port, where a redirect fault points."""
    port = int(small_emulator.url.rsplit(":", 1)[1])
    seen: Counter[str] = Counter()
    handler = type("Recorder", (_Recorder,), {"seen": seen})
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.2", port), handler)
    except OSError as exc:  # pragma: no cover - loopback aliases missing (e.g. macOS)
        pytest.skip(f"cannot listen on 127.0.0.2: {exc}")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield seen
    server.shutdown()
    server.server_close()


def test_a_redirect_to_another_host_stops_without_sending_the_credential_there(
    small_emulator, other_host, run_tap
):
    emulator = small_emulator
    emulator.add_faults(FaultRule(path_prefix=TICKETS_EXPORT, kind="redirect"))

    run = run_tap(config_for(emulator, page_size=50, max_retries=8))

    assert run.returncode == 1
    port = emulator.url.rsplit(":", 1)[1]
    assert run.error_lines[-1].endswith(
        f"tickets: Zendesk redirected {emulator.url}{TICKETS_EXPORT} to http://127.0.0.2:{port}; "
        "set url to the address your Zendesk account is served from"
    )
    assert _mentioning("redirected", run.error_lines) == 1
    assert "Traceback" not in run.stderr
    # The redirect was not followed, so nothing (least of all the Authorization header)
    # reached the other host; nor was the request retried.
    assert other_host == Counter()
    assert emulator.stats["requests_by_path"][TICKETS_EXPORT] == 1
    assert_no_secrets(run, emulator)
