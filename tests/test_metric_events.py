"""Ticket metric events: the whole time-based export once, then only the new events."""

from __future__ import annotations

from tests.conftest import catalog_for, config_for

STREAM = ["ticket_metric_events"]


def test_full_sync_emits_every_metric_event_once_in_time_order(emulator, run_tap):
    config = config_for(emulator, page_size=10)
    run = run_tap(config, catalog=catalog_for(config, STREAM))

    assert run.returncode == 0, run.stderr
    records = run.records("ticket_metric_events")
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids))
    assert set(ids) == {e["id"] for e in emulator.dataset.metric_events()}
    times = [r["time"] for r in records]
    assert times == sorted(times)


def test_records_keep_the_type_specific_fields(emulator, run_tap):
    config = config_for(emulator)
    run = run_tap(config, catalog=catalog_for(config, STREAM))

    expected = {e["id"]: e for e in emulator.dataset.metric_events()}
    for record in run.records("ticket_metric_events"):
        assert record == expected[record["id"]]


def test_an_incremental_run_emits_only_the_new_events(emulator, run_tap):
    config = config_for(emulator, page_size=10)
    catalog = catalog_for(config, STREAM)
    first = run_tap(config, catalog=catalog)

    changes = emulator.mutate(update_tickets=4, create_tickets=2)
    second = run_tap(config, catalog=catalog, state=first.final_state)

    assert second.returncode == 0, second.stderr
    assert sorted(second.ids("ticket_metric_events")) == sorted(changes["metric_events"])
