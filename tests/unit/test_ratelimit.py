"""The rate governor: requests wait for their Zendesk budget before they are sent."""

from __future__ import annotations

import random

import pytest

from tap_zendesk.api.ratelimit import ACCOUNT, EXPORT, SPACING_MARGIN, RateGovernor, buckets_of

TICKETS_EXPORT = "/api/v2/incremental/tickets/cursor.json"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def governor(**ceilings: float | None) -> tuple[RateGovernor, FakeClock]:
    clock = FakeClock()
    return RateGovernor(ceilings, clock=clock, sleep=clock.sleep), clock


def test_every_request_counts_for_the_account_and_exports_for_their_own_bucket():
    assert buckets_of(TICKETS_EXPORT) == (ACCOUNT, EXPORT)
    assert buckets_of("/api/v2/ticket_fields.json") == (ACCOUNT,)
    assert buckets_of("/api/v2/search/export.json") == (ACCOUNT, "search")


def test_a_budget_goes_out_at_once_and_the_next_request_waits_for_the_window():
    gov, clock = governor(account=600, export=10)
    start = clock.now
    waits = [gov.acquire(TICKETS_EXPORT) for _ in range(10)]
    assert waits == [0.0] * 10
    # The 11th export request fits only when the first leaves the minute (and a hair).
    assert gov.acquire(TICKETS_EXPORT) == pytest.approx(60 * SPACING_MARGIN)
    assert clock.now - start == pytest.approx(60 * SPACING_MARGIN)


def test_a_request_waiting_for_the_export_budget_does_not_hold_back_other_requests():
    gov, _ = governor(account=600, export=1)
    gov.acquire(TICKETS_EXPORT)
    assert gov.acquire("/api/v2/ticket_fields.json") == 0


@pytest.mark.parametrize("seed", range(20))
def test_no_window_ever_holds_more_than_a_budget_whatever_the_request_times(seed):
    """Property: requests asked for at random moments, on random endpoints, by several
    callers; in every window of a minute each bucket holds at most its budget."""
    rnd = random.Random(seed)
    budgets = {"account": rnd.randint(3, 40), "export": rnd.randint(1, 10)}
    gov, clock = governor(**budgets)
    sent: dict[str, list[float]] = {"account": [], "export": []}
    for _ in range(300):
        clock.now += rnd.expovariate(1 / rnd.choice((0.05, 1.0, 10.0)))
        path = rnd.choice((TICKETS_EXPORT, "/api/v2/groups.json", "/api/v2/tickets/7.json"))
        gov.acquire(path)
        for bucket in buckets_of(path):
            sent[bucket].append(clock.now)
    for bucket, times in sent.items():
        worst = max(sum(1 for s in times if t <= s < t + 60) for t in times)
        assert worst <= budgets[bucket]


def test_the_limit_zendesk_states_is_the_budget_under_the_configured_ceiling():
    gov, _ = governor(account=None, export=None)
    assert gov.budget(ACCOUNT) == 200  # the lowest plan, until Zendesk says otherwise
    gov.observe("/api/v2/users.json", {"x-rate-limit": "700", "x-rate-limit-remaining": "699"})
    assert gov.budget(ACCOUNT) == 700
    headers = {"zendesk-ratelimit-incremental-exports": "total=30; remaining=29; resets=59"}
    gov.observe(TICKETS_EXPORT, headers)
    assert gov.budget(EXPORT) == 30

    high_volume, _ = governor(account=None, export=30)
    assert high_volume.budget(EXPORT) == 30  # the user's figure where Zendesk states none

    lowered, _ = governor(account=300, export=None)
    lowered.observe("/api/v2/users.json", {"ratelimit-limit": "700"})
    assert lowered.budget(ACCOUNT) == 300


def test_an_endpoint_limit_zendesk_announces_paces_only_that_endpoint():
    gov, _ = governor(account=None, export=None)
    deleted = "/api/v2/deleted_tickets.json"
    gov.observe(deleted, {"zendesk-ratelimit-deleted-tickets": "total=10; remaining=9; resets=50"})
    waits = [gov.acquire(deleted) for _ in range(10)]
    assert waits == [0.0] * 10
    assert gov.acquire("/api/v2/groups.json") == 0
    assert gov.acquire(deleted) > 0


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


def test_a_429_holds_only_the_bucket_it_came_from_for_retry_after_and_is_counted():
    gov, _ = governor(account=10_000, export=10_000)
    gov.rate_limited(TICKETS_EXPORT, 5)
    assert gov.throttled == 1
    assert gov.acquire("/api/v2/groups.json") == 0
    assert gov.acquire(TICKETS_EXPORT) == 5

    gov, _ = governor(account=10_000, export=10_000)
    gov.rate_limited("/api/v2/groups.json", 7, {"ratelimit-remaining": "0"})
    assert gov.acquire(TICKETS_EXPORT) == 7  # the account's bucket is every request's

    gov, _ = governor(account=10_000, export=10_000)
    deleted = "/api/v2/deleted_tickets.json"
    limit = {"zendesk-ratelimit-deleted-tickets": "total=10; remaining=0; resets=30"}
    gov.rate_limited(deleted, 30, {**limit, "ratelimit-remaining": "650"})
    assert gov.acquire("/api/v2/groups.json") == 0
    assert gov.acquire(deleted) == 30


def test_the_reset_is_bounded_by_the_tightest_report_of_the_window():
    """Reset seconds are rounded up: a later report in the same window narrows the wait."""
    gov, clock = governor(account=10_000, export=10_000)
    gov.observe("/api/v2/users.json", {"ratelimit-remaining": "2", "ratelimit-reset": "3"})
    clock.now += 0.9  # the true reset is 2.1 s away, still reported as 3
    gov.observe("/api/v2/users.json", {"ratelimit-remaining": "0", "ratelimit-reset": "3"})
    assert gov.acquire("/api/v2/users.json") == pytest.approx(2.1)


def test_an_endpoint_header_without_a_total_only_holds_until_its_reset():
    gov, _ = governor(account=None, export=None)
    path = "/api/v2/deleted_tickets.json"
    gov.observe(path, {"zendesk-ratelimit-deleted-tickets": "remaining=5; resets=30"})
    assert [gov.acquire(path) for _ in range(20)] == [0.0] * 20
