"""The ticket events export is read once per run, whichever of its streams are selected.

ticket_audits, ticket_comments (and their attachments), ticket_field_history and ticket_events
all come from `/incremental/ticket_events.json`, whose budget (10 requests a minute) is the
whole account's. One read serves them all; each keeps its own bookmark, so a stream selected
later still gets its whole history, and a kill loses nothing for any of them.

ticket_events itself is the export as Zendesk sends it, item for item (with
`include=comment_events`, the one request shape that serves every stream of the export).
"""

from __future__ import annotations

import math

from tests.support.schemas import assert_valid_against_the_schemas_sent
from tests.support.tap import catalog_for, config_for
from tests.support.ticket_events import ticket_events_truth

EXPORT = "/api/v2/incremental/ticket_events.json"
DERIVED = ["ticket_audits", "ticket_comments", "ticket_events", "ticket_field_history"]
PAGE = 100


def _sync(run_tap, emulator, streams, state=None):
    config = config_for(emulator, page_size=PAGE)
    run = run_tap(config, catalog=catalog_for(config, streams), state=state)
    assert run.returncode == 0, run.stderr
    return run


def _export_requests(emulator) -> int:
    return emulator.stats["requests_by_path"].get(EXPORT, 0)


def test_one_read_of_the_export_feeds_every_selected_stream(emulator, run_tap):
    emulator.reset_stats()
    run = _sync(run_tap, emulator, DERIVED)

    items = len(emulator.dataset.ticket_events(include_comments=True))
    # Pages of PAGE items until the last, which ends the stream (one more when it is full).
    assert _export_requests(emulator) <= math.ceil(items / PAGE) + 1
    truth = ticket_events_truth(emulator)
    for stream in ("ticket_audits", "ticket_events", "ticket_comments"):
        ids = run.ids(stream)
        assert len(ids) == len(set(ids)), stream
        assert set(ids) == truth[stream], stream
    assert run.records("ticket_field_history")


def test_every_stream_costs_what_one_stream_costs(emulator, run_tap):
    emulator.reset_stats()
    _sync(run_tap, emulator, ["ticket_audits"])
    alone = _export_requests(emulator)
    emulator.reset_stats()

    _sync(run_tap, emulator, DERIVED)

    assert _export_requests(emulator) == alone


def test_a_stream_selected_later_gets_its_whole_history_and_the_others_only_news(emulator, run_tap):
    first = _sync(run_tap, emulator, ["ticket_audits"])
    changes = emulator.mutate(update_tickets=3, create_tickets=2)

    second = _sync(run_tap, emulator, ["ticket_audits", "ticket_comments"], first.final_state)

    assert sorted(second.ids("ticket_audits")) == sorted(changes["audits"])
    truth = ticket_events_truth(emulator)
    assert set(second.ids("ticket_comments")) == truth["ticket_comments"]
    assert len(second.ids("ticket_comments")) == len(truth["ticket_comments"])

    third = _sync(
        run_tap, emulator, ["ticket_audits", "ticket_comments", "ticket_events"], second.final_state
    )
    assert third.ids("ticket_audits") == []
    assert third.ids("ticket_comments") == []
    assert set(third.ids("ticket_events")) == truth["ticket_events"]


def test_each_stream_keeps_its_own_bookmark_after_a_shared_read(emulator, run_tap):
    run = _sync(run_tap, emulator, DERIVED)

    bookmarks = run.final_state["bookmarks"]
    last = max(item["timestamp"] for item in emulator.dataset.ticket_events())
    for stream in ("ticket_audits", "ticket_comments", "ticket_events"):
        assert bookmarks[stream]["end_time"] == last, stream
    assert bookmarks["ticket_events"]["replication_key_value"] == last


def test_every_export_item_once_then_only_the_new_ones(emulator, run_tap):
    config = config_for(emulator, page_size=250)
    catalog = catalog_for(config, ["ticket_events", "ticket_audits"])
    first = run_tap(config, catalog=catalog)

    assert first.returncode == 0, first.stderr
    expected = {e["id"]: e for e in emulator.dataset.ticket_events(include_comments=True)}
    assert len(expected) > 250, "one page holds every item: the test no longer pages"
    assert {r["id"]: r for r in first.records("ticket_events")} == expected
    assert len(first.ids("ticket_events")) == len(expected)
    assert_valid_against_the_schemas_sent(first, ["ticket_events"])

    changes = emulator.mutate(update_tickets=3, create_tickets=2)
    second = run_tap(config, catalog=catalog, state=first.final_state)

    assert second.returncode == 0, second.stderr
    assert sorted(second.ids("ticket_events")) == sorted(changes["audits"])
    assert sorted(second.ids("ticket_audits")) == sorted(changes["audits"])
    bookmark = second.final_state["bookmarks"]["ticket_events"]
    assert bookmark["replication_key"] == "timestamp"
    assert bookmark["replication_key_value"] == changes["timestamp"]
