"""Satisfaction ratings change in place, and every change reaches the next run.

Zendesk does not document whether `start_time` compares a rating's `created_at` or its
`updated_at`, so every test that depends on it runs against both (the emulator's
`ratings_filter_on`). Each run reads the list from the start date and emits the ratings
changed at or after the bookmark's second; a rating is emitted once per change, also when a
later one lands in the very second the last run ended on.
"""

from __future__ import annotations

import time

import pytest

from tap_zendesk.streams.satisfaction import IN_FLIGHT_SECONDS
from tests.emulator.admin import RATING_FILTER_FIELDS
from tests.emulator.dataset import iso, parse_iso
from tests.support.schemas import assert_valid_against_the_schemas_sent
from tests.support.tap import catalog_for, config_for

STREAM = "satisfaction_ratings"
START = "2020-01-01T00:00:00Z"


def _start_times(emulator) -> list[int]:
    """The start_time of every ratings request, in order."""
    return [int(q["start_time"]) for kind, q in emulator.account_lists.requests if kind == STREAM]


def _created(rating: dict) -> int:
    return parse_iso(rating["created_at"])


def _served(emulator) -> dict[int, dict]:
    return {r["id"]: r for r in emulator.account_lists.objects(STREAM)}


def _bookmark(run) -> str:
    return run.final_state["bookmarks"][STREAM]["replication_key_value"]


@pytest.fixture(params=RATING_FILTER_FIELDS)
def filtering_emulator(request, emulator):
    """The emulator, its ratings' start_time comparing `created_at` or `updated_at`."""
    emulator.account_lists.ratings_filter_on = request.param
    return emulator


def test_first_run_reads_every_rating_since_the_start_date_page_by_page(emulator, run_tap):
    emulator.account_lists.page_limit = 5
    ratings = sorted(emulator.account_lists.objects(STREAM), key=_created)
    start = _created(ratings[len(ratings) // 3])
    config = config_for(emulator, start_date=iso(start))

    run = run_tap(config, catalog=catalog_for(config, [STREAM]))

    assert run.returncode == 0, run.stderr
    expected = {r["id"]: r for r in ratings if _created(r) >= start}
    assert {r["id"]: r for r in run.records(STREAM)} == expected
    assert len(run.ids(STREAM)) == len(expected)
    assert len(expected) < len(ratings), "the start date filters nothing"
    assert set(_start_times(emulator)) == {start}
    assert len(_start_times(emulator)) == -(-len(expected) // 5), "not one request per page"
    assert _bookmark(run) == max(r["updated_at"] for r in expected.values())
    assert_valid_against_the_schemas_sent(run, [STREAM])
    assert "new CSAT" not in run.stderr


def test_served_ratings_were_offered_before_they_were_scored(emulator):
    ratings = emulator.account_lists.objects(STREAM)
    assert all(r["created_at"] <= r["updated_at"] for r in ratings)
    later = [r for r in ratings if r["created_at"] < r["updated_at"]]
    assert len(later) > len(ratings) / 2, "ratings should mostly be scored after the offer"


def test_ratings_changed_after_a_run_come_at_their_new_values_in_the_next(
    filtering_emulator, run_tap
):
    emulator = filtering_emulator
    config = config_for(emulator, start_date=START)
    catalog = catalog_for(config, [STREAM])
    first = run_tap(config, catalog=catalog)
    assert first.returncode == 0, first.stderr
    before = _served(emulator)
    # The oldest ratings, created long before the first run's bookmark.
    changed = emulator.account_lists.rescore(5)
    after = _served(emulator)
    assert all(after[i]["created_at"] == before[i]["created_at"] for i in changed)
    assert all(after[i]["updated_at"] > _bookmark(first) for i in changed)
    assert all(after[i]["created_at"] < _bookmark(first) for i in changed)
    emulator.account_lists.requests.clear()

    second = run_tap(config, catalog=catalog, state=first.final_state)

    assert second.returncode == 0, second.stderr
    assert sorted(second.ids(STREAM)) == sorted(changed), "changed ratings missed or others sent"
    for record in second.records(STREAM):
        assert record == after[record["id"]]
        assert record["score"] != before[record["id"]]["score"]
    assert set(_start_times(emulator)) == {parse_iso(START)}
    assert _bookmark(second) == max(after[i]["updated_at"] for i in changed)
    third = run_tap(config, catalog=catalog, state=second.final_state)
    assert third.ids(STREAM) == []


def test_a_rating_saved_in_the_bookmarks_second_is_emitted_once(filtering_emulator, run_tap):
    emulator = filtering_emulator
    config = config_for(emulator)
    catalog = catalog_for(config, [STREAM])
    first = run_tap(config, catalog=catalog)
    bookmark = _bookmark(first)
    # One rating saved in the second the first run ended on, after it read; two later.
    same_second = emulator.account_lists.rate(1, at=parse_iso(bookmark))
    later = emulator.account_lists.rate(2)

    second = run_tap(config, catalog=catalog, state=first.final_state)

    assert second.returncode == 0, second.stderr
    assert sorted(second.ids(STREAM)) == sorted(same_second + later)
    third = run_tap(config, catalog=catalog, state=second.final_state)
    assert third.ids(STREAM) == []


@pytest.mark.parametrize("killed_after", [1, 4])
def test_an_interrupted_run_is_redone_by_the_next_and_loses_nothing(
    filtering_emulator, run_tap, killed_after
):
    """A target keeps what a killed run wrote: its records and the last STATE it saw. The
    next run, from that STATE, brings every change again."""
    emulator = filtering_emulator
    config = config_for(emulator)
    catalog = catalog_for(config, [STREAM])
    first = run_tap(config, catalog=catalog)
    changed = emulator.account_lists.rescore(3) + emulator.account_lists.rate(3)
    emulator.account_lists.page_limit = 2
    whole = run_tap(config, catalog=catalog, state=first.final_state)
    assert sorted(whole.ids(STREAM)) == sorted(changed)
    records = [i for i, m in enumerate(whole.messages) if m["type"] == "RECORD"]
    kept = whole.messages[: records[killed_after - 1] + 1]
    last_state = [m["value"] for m in kept if m["type"] == "STATE"][-1]

    resumed = run_tap(config, catalog=catalog, state=last_state)

    assert resumed.returncode == 0, resumed.stderr
    assert sorted(resumed.ids(STREAM)) == sorted(changed), "not every change came again"
    assert resumed.final_state["bookmarks"][STREAM] == whole.final_state["bookmarks"][STREAM]


def test_a_rating_changed_while_a_run_reads_comes_again_in_the_next_run(emulator, run_tap):
    """The bookmark stops at the run's start less IN_FLIGHT_SECONDS: a change stamped later
    may have been made after its page was read. Once a run starts later than that, the
    change is settled and comes no more."""
    config = config_for(emulator)
    catalog = catalog_for(config, [STREAM])
    first = run_tap(config, catalog=catalog)
    at = int(time.time()) - IN_FLIGHT_SECONDS + 10
    recent = emulator.account_lists.rescore(1, at=at)

    second = run_tap(config, catalog=catalog, state=first.final_state)
    time.sleep(max(0.0, at + IN_FLIGHT_SECONDS + 1 - time.time()))
    third = run_tap(config, catalog=catalog, state=second.final_state)
    fourth = run_tap(config, catalog=catalog, state=third.final_state)

    assert second.ids(STREAM) == recent
    assert _bookmark(second) < iso(at)
    assert third.ids(STREAM) == recent, "a change in the run's last minute was not re-read"
    assert _bookmark(third) == iso(at)
    assert fourth.ids(STREAM) == []


def test_an_account_on_the_new_csat_is_told_once_why_the_stream_is_empty(emulator, run_tap):
    emulator.account_lists.csat = "new"
    config = config_for(emulator)

    run = run_tap(config, catalog=catalog_for(config, [STREAM]))

    assert run.returncode == 0, run.stderr
    assert run.ids(STREAM) == []
    warnings = [line for line in run.stderr.splitlines() if "new CSAT" in line]
    assert len(warnings) == 2, warnings  # the warning, and its line in the run summary
    warning, summary = warnings
    assert "WARNING" in warning
    assert "survey responses" in warning
    assert "Run summary: satisfaction_ratings: Zendesk returned no satisfaction ratings" in (
        summary
    )
