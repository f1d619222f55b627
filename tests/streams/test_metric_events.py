"""Ticket metric events: the whole time-based export once, then only the new events."""

from __future__ import annotations

from tests.support.tap import catalog_for, config_for

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


def _crowded(emulator) -> None:
    """Zendesk capping its same-second expansion, and more events in one second than a page of
    5 holds (a created ticket's activate events already share one; 12 updates at one moment
    make sure)."""
    emulator.configure(capped_same_second=True)
    emulator.mutate(update_tickets=12)


def test_a_crowded_second_is_read_by_cursor_and_every_event_comes_once(emulator, run_tap):
    _crowded(emulator)
    config = config_for(emulator, page_size=5)

    run = run_tap(config, catalog=catalog_for(config, STREAM))

    assert run.returncode == 0, run.stderr
    ids = run.ids("ticket_metric_events")
    assert len(ids) == len(set(ids))
    assert set(ids) == {e["id"] for e in emulator.dataset.metric_events()}
    fallbacks = [
        line for line in run.stderr.splitlines() if "reading that second by cursor" in line
    ]
    assert fallbacks, run.stderr
    # The state says which paging reads on, and is one a rerun accepts.
    bookmark = run.final_state["bookmarks"]["ticket_metric_events"]
    assert bookmark["paging"] in {"time", "cursor"}
    assert any(
        s["bookmarks"].get("ticket_metric_events", {}).get("paging") == "cursor" for s in run.states
    )


def test_a_run_stopped_while_reading_by_cursor_resumes_exactly_once(emulator, run_tap):
    _crowded(emulator)
    config = config_for(emulator, page_size=5)
    catalog = catalog_for(config, STREAM)
    first = run_tap(config, catalog=catalog)
    assert first.returncode == 0, first.stderr

    # Where a run would have stopped: the first STATE written in cursor mode, and the events
    # emitted before it.
    emitted, resume = [], None
    for message in first.messages:
        if message["type"] == "RECORD" and message["stream"] == STREAM[0]:
            emitted.append(message["record"]["id"])
        elif message["type"] == "STATE":
            bookmark = message["value"]["bookmarks"].get(STREAM[0], {})
            if bookmark.get("paging") == "cursor":
                resume = message["value"]
                break
    assert resume is not None, "no STATE was written while reading by cursor"

    second = run_tap(config, catalog=catalog, state=resume)

    assert second.returncode == 0, second.stderr
    together = emitted + second.ids(STREAM[0])
    assert sorted(together) == sorted(e["id"] for e in emulator.dataset.metric_events())
