"""The rate governor: requests wait for their Zendesk budget before they are sent."""

from __future__ import annotations

import pytest

from tap_zendesk.ratelimit import ACCOUNT, EXPORT, SPACING_MARGIN, RateGovernor, buckets_of
from tests.conftest import catalog_for, config_for

TICKETS_EXPORT = "/api/v2/incremental/tickets/cursor.json"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def governor(**per_minute: float) -> tuple[RateGovernor, FakeClock]:
    clock = FakeClock()
    return RateGovernor(per_minute, clock=clock, sleep=clock.sleep), clock


def test_every_request_counts_for_the_account_and_exports_for_their_own_bucket():
    assert buckets_of(TICKETS_EXPORT) == (ACCOUNT, EXPORT)
    assert buckets_of("/api/v2/ticket_fields.json") == (ACCOUNT,)
    assert buckets_of("/api/v2/search/export.json") == (ACCOUNT, "search")


def test_requests_are_spaced_evenly_at_the_bucket_rate():
    gov, clock = governor(account=600, export=10)
    start = clock.now
    for _ in range(11):
        gov.acquire(TICKETS_EXPORT)
    # 10 a minute: the 11th export request goes out one minute (and a hair) after the first.
    assert clock.now - start == pytest.approx(10 * 6.0 * SPACING_MARGIN)


def test_no_window_of_a_minute_holds_more_than_the_budget():
    gov, clock = governor(account=120, export=30)
    sent = []
    for _ in range(200):
        gov.acquire("/api/v2/tickets/1/comments.json")
        sent.append(clock.now)
    assert max(sum(1 for s in sent if t <= s < t + 60) for t in sent) <= 120


def test_an_exhausted_bucket_waits_for_the_reset_zendesk_announces():
    gov, _ = governor(account=10_000, export=10_000)
    gov.observe("/api/v2/users.json", {"ratelimit-remaining": "0", "ratelimit-reset": "17"})
    assert gov.acquire("/api/v2/users.json") == 17


def test_an_export_bucket_header_holds_only_export_requests():
    gov, _ = governor(account=10_000, export=10_000)
    headers = {"zendesk-ratelimit-incremental-exports": "total=10; remaining=0; resets=9"}
    gov.observe(TICKETS_EXPORT, headers)
    assert gov.acquire("/api/v2/ticket_fields.json") == 0
    assert gov.acquire(TICKETS_EXPORT) == 9


def test_a_429_holds_the_buckets_for_retry_after_and_is_counted():
    gov, _ = governor(account=10_000, export=10_000)
    gov.rate_limited(TICKETS_EXPORT, 5)
    assert gov.throttled == 1
    assert gov.acquire(TICKETS_EXPORT) == 5


def test_the_paced_tap_never_exceeds_the_emulators_budgets(make_emulator, run_tap):
    """Emulated minute = 2 s, 6 export and 30 account requests per minute: zero 429s."""
    emulator = make_emulator(time_scale=2.0, export_limit=6, account_limit=30)
    config = config_for(
        emulator,
        page_size=20,
        export_rate_limit_per_minute=6 * 30,
        rate_limit_per_minute=30 * 30,
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


def test_prefetching_keeps_export_order_and_one_state_per_page(emulator, run_tap):
    config = config_for(emulator, page_size=20)

    run = run_tap(config, catalog=catalog_for(config, ["tickets"]))

    assert run.ids("tickets") == [i for i, _ in emulator.dataset.truth("tickets")]
    cursors = [
        s["bookmarks"]["tickets"].get("cursor")
        for s in run.states
        if "tickets" in s.get("bookmarks", {})
    ]
    pages = -(-len(run.ids("tickets")) // 20)
    assert len({c for c in cursors if c}) == pages
    # Each STATE comes after the last record of its page.
    messages = run.messages
    for index, message in enumerate(messages):
        if message["type"] == "STATE" and message["value"]["bookmarks"].get("tickets", {}).get(
            "cursor"
        ):
            emitted = sum(1 for m in messages[:index] if m["type"] == "RECORD")
            assert emitted % 20 == 0 or emitted == len(run.ids("tickets"))


def test_the_reset_is_bounded_by_the_tightest_report_of_the_window():
    """Reset seconds are rounded up: a later report in the same window narrows the wait."""
    gov, clock = governor(account=10_000, export=10_000)
    gov.observe("/api/v2/users.json", {"ratelimit-remaining": "2", "ratelimit-reset": "3"})
    clock.now += 0.9  # the true reset is 2.1 s away, still reported as 3
    gov.observe("/api/v2/users.json", {"ratelimit-remaining": "0", "ratelimit-reset": "3"})
    assert gov.acquire("/api/v2/users.json") == pytest.approx(2.1)
