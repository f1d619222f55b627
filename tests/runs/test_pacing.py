"""Whole runs paced by the rate governor: within the budgets Zendesk states, and through 429s.

The governor itself, on a fake clock, is tests/unit/test_ratelimit.py.
"""

from __future__ import annotations

from tests.support.tap import catalog_for, config_for


def test_the_paced_tap_never_exceeds_the_emulators_budgets(make_emulator, run_tap):
    """Emulated minute = 2 s, 6 export and 30 account requests per minute: zero 429s."""
    emulator = make_emulator(time_scale=2.0, export_limit=6, account_limit=30)
    # The budgets come from the emulator's headers, as they would from Zendesk's.
    config = config_for(
        emulator,
        page_size=20,
        export_rate_limit_per_minute=None,
        rate_limit_per_minute=None,
        rate_limit_window_seconds=2.0,
    )
    streams = ["tickets", "users", "organizations"]

    run = run_tap(config, catalog=catalog_for(config, streams))

    assert run.returncode == 0, run.stderr
    assert emulator.stats["rate_limited_total"] == 0
    for stream in ("tickets", "users", "organizations"):
        assert sorted(run.ids(stream)) == sorted(emulator.dataset.ids(stream))
    assert "Run summary: 0 responses 429 received" in run.stderr


def test_a_429_storm_is_survived_without_loss(emulator, run_tap):
    emulator.configure(fault_rate=0.3, fault_kinds=["429", "429_no_retry_after"], fault_seed=3)
    config = config_for(emulator, page_size=30)

    run = run_tap(config, catalog=catalog_for(config, ["tickets", "users"]))

    assert run.returncode == 0, run.stderr
    assert emulator.stats["faults_total"] > 0
    for stream in ("tickets", "users"):
        assert sorted(run.ids(stream)) == sorted(emulator.dataset.ids(stream))
