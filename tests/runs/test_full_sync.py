"""A full sync emits every ticket, user and organization of the account exactly once."""

from __future__ import annotations

from tests.support.tap import STREAMS, as_served, catalog_for, config_for


def test_full_sync_emits_every_record_exactly_once(emulator, run_tap):
    """Small pages force many boundaries: same-second clusters, time-export duplicates."""
    run = run_tap(config_for(emulator, page_size=7))

    assert run.returncode == 0, run.stderr
    for stream in STREAMS:
        ids = run.ids(stream)
        assert len(ids) == len(set(ids)), f"{stream} emitted a record twice"
        assert set(ids) == set(emulator.dataset.ids(stream)), f"{stream} is incomplete"


def test_deleted_tickets_are_emitted_so_targets_can_merge_the_deletion(emulator, run_tap):
    run = run_tap(config_for(emulator))

    deleted = {t["id"] for t in run.records("tickets") if t["status"] == "deleted"}
    expected = {t["id"] for t in emulator.dataset.visible("tickets") if t["status"] == "deleted"}
    assert deleted
    assert deleted == expected


def test_records_keep_zendesk_values_and_types(emulator, run_tap):
    run = run_tap(config_for(emulator))

    for stream in STREAMS:
        for record in run.records(stream)[:50]:
            assert as_served(record) == emulator.dataset.get(stream, record["id"])


def test_final_state_holds_a_resume_point_per_stream(emulator, run_tap):
    run = run_tap(config_for(emulator))

    bookmarks = run.final_state["bookmarks"]
    assert bookmarks["tickets"]["cursor"]
    assert bookmarks["users"]["cursor"]
    assert isinstance(bookmarks["organizations"]["end_time"], int)
    for stream in STREAMS:
        assert "progress_markers" not in bookmarks[stream]


def test_records_keep_export_order_with_one_state_after_each_page(emulator, run_tap):
    """The next page is fetched while this one is emitted, yet records come in the export's order
    and each page ends with its STATE, as in a sequential run."""
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
