"""Every failure ends in one line that says what to fix, or in a retry that loses nothing."""

from __future__ import annotations

import http.server
import re
import threading

import pytest

from tap_zendesk.api.pagination import StuckExport
from tap_zendesk.streams.incremental import iso_timestamp
from tap_zendesk.tap import TapZendesk
from tests.emulator import FaultRule
from tests.emulator.server import MAINTENANCE_RETRY_AFTER
from tests.support.tap import STREAMS, assert_no_secrets, catalog_for, config_for

TICKETS_EXPORT = "/api/v2/incremental/tickets/cursor.json"


def _complete(run, emulator) -> None:
    assert run.returncode == 0, run.stderr
    for stream in STREAMS:
        ids = run.ids(stream)
        assert sorted(ids) == sorted(emulator.dataset.ids(stream)), stream


def test_wrong_api_token_stops_with_one_line_naming_the_user_and_account(emulator, run_tap):
    run = run_tap(config_for(emulator, api_token="not-the-token"))

    assert run.returncode == 1
    line = run.error_lines[-1]
    assert (
        f"authentication failed for {emulator.credentials['email']} at {emulator.url} "
        "(Couldn't authenticate you): the API token is wrong or Zendesk deactivated it"
    ) in line
    assert "every API token stops working on 30 April 2027" in line
    assert "Traceback" not in run.stderr
    assert "not-the-token" not in run.stderr + run.stdout
    assert_no_secrets(run, emulator)


@pytest.mark.parametrize(
    ("stream", "path"),
    [
        ("tickets", "/incremental/tickets/cursor.json"),
        ("users", "/incremental/users/cursor.json"),
        ("organizations", "/incremental/organizations.json"),
    ],
)
def test_a_forbidden_core_stream_ends_the_run_with_one_line(emulator, run_tap, stream, path):
    emulator.configure(forbidden_paths=[f"/api/v2{path}"])
    config = config_for(emulator)

    run = run_tap(config, catalog=catalog_for(config, ["tickets", "users", "organizations"]))

    assert run.returncode == 1
    assert run.error_lines[-1].endswith(
        f"{stream}: Zendesk answered 403 Forbidden for {path} (Forbidden: You do not have "
        "access to this page. Please contact the account owner of this help desk for further "
        "help.): incremental exports need a Zendesk admin user; "
        f"{stream} is never skipped when selected: give the tap a Zendesk admin's credential, "
        f"or deselect {stream}"
    ), run.error_lines
    # Said once (the SDK adds only that a stream failed, without the reason).
    assert sum("never skipped" in line for line in run.error_lines) == 1, run.error_lines
    assert "Traceback" not in run.stderr
    assert run.ids(stream) == []
    assert_no_secrets(run, emulator)


def test_a_forbidden_plan_gated_stream_is_skipped_with_a_warning_and_the_rest_syncs(
    emulator, run_tap
):
    emulator.configure(forbidden_paths=["/api/v2/slas/policies"])
    config = config_for(emulator)

    run = run_tap(config, catalog=catalog_for(config, ["sla_policies", *STREAMS]))

    assert run.returncode == 0, run.stderr
    assert run.records("sla_policies") == []
    warning = next(
        line for line in run.stderr.splitlines() if "Skipping stream 'sla_policies'" in line
    )
    assert "403 Forbidden" in warning
    assert "plan with SLAs" in warning
    _complete(run, emulator)
    assert "Run summary: skipped stream sla_policies: Zendesk answered 403 Forbidden" in run.stderr
    assert_no_secrets(run, emulator)


class _NotZendesk(http.server.BaseHTTPRequestHandler):
    """Some other web server: 404 pages in HTML for everything."""

    def do_GET(self) -> None:
        body = b"<html><body><h1>Page not found</h1></body></html>"
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def not_zendesk():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotZendesk)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_url_that_is_not_zendesk_stops_with_one_line(emulator, not_zendesk, run_tap):
    run = run_tap(config_for(emulator, url=not_zendesk))

    assert run.returncode == 1
    # The first request (field definitions, at discovery) already names the problem.
    assert re.search(
        rf"nothing answers at {re.escape(not_zendesk)}/api/v2/\S+\.json \(404 Not Found\): "
        r"check that url is your Zendesk address, e\.g\. https://acme\.zendesk\.com$",
        run.error_lines[-1],
    )
    assert "Traceback" not in run.stderr


def test_429_waits_retry_after_then_continues_without_loss(emulator, run_tap):
    emulator.add_faults(FaultRule(path_prefix=TICKETS_EXPORT, kind="429", count=2))

    run = run_tap(config_for(emulator, page_size=50))

    _complete(run, emulator)
    waits = [line for line in run.stderr.splitlines() if "rate limited on" in line]
    assert len(waits) == 2
    assert all("waiting 1.0s as Zendesk asked" in line for line in waits)
    assert_no_secrets(run, emulator)


@pytest.mark.parametrize(
    "kind", ["500", "502", "503", "504", "409", "drop", "truncate", "short_body"]
)
def test_transient_failures_are_retried_without_loss(emulator, run_tap, kind):
    emulator.add_faults(FaultRule(path_prefix=TICKETS_EXPORT, kind=kind, count=2))

    run = run_tap(config_for(emulator, page_size=50))

    _complete(run, emulator)
    retries = [line for line in run.stderr.splitlines() if "retrying in" in line]
    assert len(retries) == 2
    assert_no_secrets(run, emulator)


def test_a_503_with_retry_after_waits_as_long_as_zendesk_asks(emulator, run_tap):
    emulator.add_faults(FaultRule(path_prefix=TICKETS_EXPORT, kind="503_retry_after", count=2))

    run = run_tap(config_for(emulator, page_size=50))

    _complete(run, emulator)
    retries = [line for line in run.stderr.splitlines() if "retrying in" in line]
    assert len(retries) == 2
    # The first backoff step would be at most 1 s: the 2 s are the server's.
    assert all(
        f"retrying in {MAINTENANCE_RETRY_AFTER:.1f}s as Zendesk asked (Retry-After)" in line
        for line in retries
    ), retries
    assert_no_secrets(run, emulator)


def test_503s_with_retry_after_count_against_max_retries_once_the_outage_limit_passed(
    emulator, run_tap
):
    """The 503 asks for 2 s; the outage limit (1 s) is past after the first wait."""
    emulator.add_faults(FaultRule(path_prefix=TICKETS_EXPORT, kind="503_retry_after", count=10))

    run = run_tap(config_for(emulator, max_retries=1))

    assert run.returncode == 1
    assert run.error_lines[-1].endswith(
        "(503 Service Unavailable from Zendesk), past outage_limit_seconds (1); run again "
        "later: the run resumes from its last STATE"
    )
    assert emulator.stats["requests_by_path"][TICKETS_EXPORT] == 2
    assert "Traceback" not in run.stderr


def test_a_failure_that_outlasts_max_retries_and_the_outage_limit_stops_with_one_line(
    emulator, run_tap
):
    # Plain 503s are also tried in smaller pages (six halvings from 1000), then waited out.
    emulator.add_faults(FaultRule(path_prefix=TICKETS_EXPORT, kind="503", count=100))

    run = run_tap(config_for(emulator, max_retries=1))

    assert run.returncode == 1
    assert run.error_lines[-1].startswith(
        run.error_lines[-1].split("| tickets:")[0] + "| tickets: Zendesk kept failing on "
        "/incremental/tickets/cursor.json for "
    )
    assert "past outage_limit_seconds (1)" in run.error_lines[-1]
    assert "Traceback" not in run.stderr
    assert_no_secrets(run, emulator)


def test_a_slow_response_beyond_request_timeout_is_retried(emulator, run_tap):
    emulator.add_faults(FaultRule(path_prefix=TICKETS_EXPORT, kind="slow", count=1))

    run = run_tap(config_for(emulator, request_timeout=1))

    _complete(run, emulator)
    assert "no response within request_timeout" in run.stderr


def test_a_time_export_stuck_in_one_second_stops_saying_what_happened_and_what_to_do(
    emulator, run_tap
):
    # Zendesk capping its same-second expansion (reported in
    # https://github.com/PostHog/posthog/issues/59215), and 8 organizations
    # changed in one second: more than a page of 5 (the dataset may have such seconds anyway).
    emulator.configure(capped_same_second=True)
    changed = emulator.mutate(update_organizations=8)
    config = config_for(emulator, page_size=5)

    run = run_tap(config, catalog=catalog_for(config, ["organizations"]), timeout=60)

    assert run.returncode == 1
    stuck = re.search(
        r"organizations: the export is stuck at (\S+) \(end_time (\d+)\): a full page of 5 "
        r"held 5 items of that second and Zendesk's next page starts at that second again, so "
        r"reading on would repeat the same page forever; raise page_size \(now 5, at most "
        r"1000\) so one page holds that whole second, then run again from the last STATE, "
        r"which resumes at that second$",
        run.error_lines[-1],
    )
    assert stuck, run.error_lines
    second = int(stuck[2])
    assert stuck[1] == iso_timestamp(second)
    in_that_second = [i for i, ts in emulator.dataset.truth("organizations") if ts == second]
    assert len(in_that_second) > 5
    assert sum("is stuck at" in line for line in run.error_lines) == 1
    assert "Traceback" not in run.stderr
    # The last STATE resumes at that second, and a page that holds it gets past it.
    assert run.final_state["bookmarks"]["organizations"]["end_time"] == second
    rerun = run_tap(
        config_for(emulator, page_size=1000),
        state=run.final_state,
        catalog=catalog_for(config, ["organizations"]),
    )
    assert rerun.returncode == 0, rerun.stderr
    # Together the two runs emit every organization of that second exactly once.
    together = run.ids("organizations") + rerun.ids("organizations")
    assert sorted(i for i in together if i in set(in_that_second)) == sorted(in_that_second)
    assert set(changed["update_organizations"]) <= set(together)


def test_a_stuck_export_at_the_largest_page_says_no_setting_helps(emulator):
    tap = TapZendesk(config=config_for(emulator), parse_env_config=False)

    advice = tap.streams["organizations"].stuck_advice(StuckExport(1700000000, 1000, 1000))

    assert "no setting gets past that second" in advice
    assert "Zendesk support" in advice
