"""Satisfaction ratings, read incrementally: Zendesk filters them server-side on `start_time`.

The first run asks from the start date, the next from the bookmark's second; a rating is
emitted once, also when a later one lands in the very second the last run ended on.
"""

from __future__ import annotations

from tests.conftest import catalog_for, config_for
from tests.emulator.dataset import iso, parse_iso
from tests.test_account_lists import assert_valid_against_the_schemas_sent

STREAM = "satisfaction_ratings"


def _start_times(emulator) -> list[int]:
    """The start_time of every ratings request, in order."""
    return [int(q["start_time"]) for kind, q in emulator.account_lists.requests if kind == STREAM]


def _created(rating: dict) -> int:
    return parse_iso(rating["created_at"])


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
    assert run.final_state["bookmarks"][STREAM]["replication_key_value"] == max(
        r["updated_at"] for r in expected.values()
    )
    assert_valid_against_the_schemas_sent(run, [STREAM])


def test_next_run_asks_from_the_bookmark_and_emits_only_newer_ratings(emulator, run_tap):
    config = config_for(emulator)
    catalog = catalog_for(config, [STREAM])
    first = run_tap(config, catalog=catalog)
    bookmark = first.final_state["bookmarks"][STREAM]["replication_key_value"]
    # One rating saved in the second the first run ended on, after it read; two later.
    same_second = emulator.account_lists.rate(1, at=parse_iso(bookmark))
    later = emulator.account_lists.rate(2)
    emulator.account_lists.requests.clear()

    second = run_tap(config, catalog=catalog, state=first.final_state)

    assert second.returncode == 0, second.stderr
    assert sorted(second.ids(STREAM)) == sorted(same_second + later)
    assert _start_times(emulator) == [parse_iso(bookmark)]
    third = run_tap(config, catalog=catalog, state=second.final_state)
    assert third.ids(STREAM) == []
