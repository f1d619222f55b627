"""Long outages: a Zendesk that fails for minutes (maintenance, an incident) is waited out.

A failing server (5xx, 409, no connection) is retried, following its Retry-After, until it has
failed for `outage_limit_seconds` (30 minutes by default), whatever max_retries says; the
progress lines say so meanwhile. Past the limit the run ends with one line and a STATE the
next run resumes from.
"""

from __future__ import annotations

from tests.emulator import FaultRule
from tests.support.tap import catalog_for, config_for

TICKETS_EXPORT = "/api/v2/incremental/tickets/cursor.json"
USERS_EXPORT = "/api/v2/incremental/users/cursor.json"


def _config(emulator, **overrides):
    return config_for(emulator, page_size=50, max_retries=1, **overrides)


def test_an_outage_longer_than_max_retries_is_waited_out(emulator, run_tap):
    # Six 503s that each ask for 2 s: about 12 s of maintenance, far past max_retries=1.
    emulator.add_faults(FaultRule(path_prefix=TICKETS_EXPORT, kind="503_retry_after", count=6))
    config = _config(emulator, outage_limit_seconds=60, progress_interval=1)

    run = run_tap(config, catalog=catalog_for(config, ["tickets"]))

    assert run.returncode == 0, run.stderr
    assert sorted(run.ids("tickets")) == sorted(emulator.dataset.ids("tickets"))
    assert emulator.stats["faults_total"] == 6
    assert "Zendesk failing for" in run.stderr  # the progress lines said why it waited


def test_past_the_outage_limit_the_run_ends_with_one_line_and_resumes_later(emulator, run_tap):
    # tickets are read before users; then the users export fails for longer than the limit.
    emulator.add_faults(FaultRule(path_prefix=USERS_EXPORT, kind="503_retry_after", count=50))
    config = _config(emulator, outage_limit_seconds=3)
    catalog = catalog_for(config, ["users", "tickets"])

    stopped = run_tap(config, catalog=catalog)

    assert stopped.returncode == 1
    lines = [line for line in stopped.error_lines if "outage_limit_seconds" in line]
    assert len(lines) == 1, stopped.stderr
    assert "resumes from its last STATE" in lines[0]
    assert sorted(stopped.ids("tickets")) == sorted(emulator.dataset.ids("tickets"))
    emulator.clear_faults()
    resumed = run_tap(config, catalog=catalog, state=stopped.final_state)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.ids("tickets") == []
    assert sorted(resumed.ids("users")) == sorted(emulator.dataset.ids("users"))


def test_a_broken_body_is_still_retried_only_max_retries_times(emulator, run_tap):
    emulator.add_faults(FaultRule(path_prefix=TICKETS_EXPORT, kind="truncate", count=5))
    config = _config(emulator, outage_limit_seconds=600)

    run = run_tap(config, catalog=catalog_for(config, ["tickets"]))

    assert run.returncode == 1
    assert any("still failing after 2 attempts" in line for line in run.error_lines)
