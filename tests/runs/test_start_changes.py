"""Changing start_date or days_back re-reads each incremental stream from the new start;
leaving it alone never resets anything, even as a days_back date moves with the calendar
(a second run with the start unchanged: tests/runs/test_incremental.py)."""

from __future__ import annotations

import datetime as dt

from tests.support.tap import catalog_for, config_for

STREAMS = ("tickets", "users", "organizations")


def _sync(run_tap, emulator, state=None, **settings):
    config = config_for(emulator, **settings)
    run = run_tap(config, catalog=catalog_for(config, STREAMS), state=state)
    assert run.returncode == 0, run.stderr
    return run


def _tickets_since(emulator, start: dt.datetime) -> set[int]:
    return {
        t["id"]
        for t in emulator.dataset.visible("tickets")
        if t["generated_timestamp"] >= start.timestamp()
    }


def _middle(emulator) -> dt.datetime:
    """A whole UTC day inside the dataset, so half the tickets are on each side of it."""
    stamps = sorted(t["generated_timestamp"] for t in emulator.dataset.visible("tickets"))
    middle = dt.datetime.fromtimestamp(stamps[len(stamps) // 2], dt.UTC)
    return middle.replace(hour=0, minute=0, second=0)


def test_a_new_start_date_re_reads_from_that_date(emulator, run_tap):
    first = _sync(run_tap, emulator)
    start = _middle(emulator)

    second = _sync(run_tap, emulator, state=first.final_state, start_date=start.isoformat())

    expected = _tickets_since(emulator, start)
    assert 0 < len(expected) < len(emulator.dataset.visible("tickets"))
    assert set(second.ids("tickets")) == expected
    assert "tickets: the start changed" in second.stderr
    assert "re-reading from " + start.strftime("%Y-%m-%dT%H:%M:%SZ") in second.stderr


def test_an_earlier_start_date_re_reads_what_the_old_one_left_out(emulator, run_tap):
    start = _middle(emulator)
    first = _sync(run_tap, emulator, start_date=start.isoformat())
    assert set(first.ids("tickets")) == _tickets_since(emulator, start)

    second = _sync(run_tap, emulator, state=first.final_state)

    assert set(second.ids("tickets")) == {t["id"] for t in emulator.dataset.visible("tickets")}


def test_days_back_resets_only_when_the_number_changes(emulator, run_tap):
    days = (dt.datetime.now(dt.UTC) - _middle(emulator)).days
    first = _sync(run_tap, emulator, start_date=None, days_back=days)

    same = _sync(run_tap, emulator, state=first.final_state, start_date=None, days_back=days)
    assert same.ids("tickets") == []
    # A state saved an earlier day still names the same setting: nothing to reset.
    assert first.final_state["bookmarks"]["tickets"]["start_setting"] == f"days_back={days}"

    wider = _sync(run_tap, emulator, state=first.final_state, start_date=None, days_back=days + 3)
    assert set(wider.ids("tickets")) == _tickets_since(
        emulator,
        dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        - dt.timedelta(days=days + 3),
    )


def test_a_state_from_before_start_tracking_is_resumed_not_reset(emulator, run_tap):
    first = _sync(run_tap, emulator)
    old_state = first.final_state
    for bookmark in old_state["bookmarks"].values():
        bookmark.pop("start_setting", None)

    second = _sync(run_tap, emulator, state=old_state, start_date="2021-06-01")

    assert all(second.ids(stream) == [] for stream in STREAMS)
    assert second.final_state["bookmarks"]["tickets"]["start_setting"].startswith("start_date=")
