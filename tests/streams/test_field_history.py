"""ticket_field_history: one row per change of any ticket field, from the audits already read.

No request of its own; run after run each change comes once, and replaying a ticket's history
ends at the ticket's current values.
"""

from __future__ import annotations

from tests.support.tap import catalog_for, config_for
from tests.support.ticket_events import replay


def _sync(run_tap, emulator, streams, state=None):
    config = config_for(emulator, page_size=40)
    run = run_tap(config, catalog=catalog_for(config, streams), state=state)
    assert run.returncode == 0, run.stderr
    return run


def _changes(emulator) -> dict[tuple[int, str], dict]:
    """Every field set by an audit, keyed like the stream.

    Taken from the per-ticket audits (`field_name`/`value`), the other shape Zendesk gives the
    same events in: the stream reads the export, where the field is a key of the event.
    """
    return {
        (audit["id"], event["field_name"]): {**event, "ticket_id": audit["ticket_id"]}
        for audit in emulator.dataset.audits()
        for event in audit["events"]
        if event["type"] in ("Create", "Change")
    }


def test_every_field_change_is_one_row(emulator, run_tap):
    run = _sync(run_tap, emulator, ["ticket_field_history"])

    rows = run.records("ticket_field_history")
    keys = [(row["audit_id"], row["field_name"]) for row in rows]
    assert len(keys) == len(set(keys))
    truth = _changes(emulator)
    assert set(keys) == set(truth)
    names = {row["field_name"] for row in rows}
    assert {"status", "tags", "assignee_id"} <= names
    custom = [row for row in rows if row["field_id"] is not None]
    assert custom
    assert all(row["field_name"] == str(row["field_id"]) for row in custom)


def test_values_are_text_and_creations_have_no_previous_value(emulator, run_tap):
    run = _sync(run_tap, emulator, ["ticket_field_history"])
    truth = _changes(emulator)

    for row in run.records("ticket_field_history"):
        event = truth[(row["audit_id"], row["field_name"])]
        value = event.get("value")
        expected = " ".join(value) if isinstance(value, list) else value
        assert row["value"] == expected
        if event["type"] == "Create":
            assert row["previous_value"] is None


def _assert_replay_gives_current_tickets(emulator, rows: list[dict]) -> None:
    current = replay(rows)
    live = [t for t in emulator.dataset.visible("tickets") if t["status"] != "deleted"]
    assert live
    for ticket in live:
        assert current[(ticket["id"], "status")] == ticket["status"]
        assert (current.get((ticket["id"], "tags")) or "").split() == sorted(ticket["tags"])
        for field in ticket["custom_fields"]:
            value = field["value"]
            if value is None or isinstance(value, bool):
                continue  # unset, or a checkbox: audits of those are not recorded
            expected = " ".join(value) if isinstance(value, list) else str(value)
            assert current[(ticket["id"], str(field["id"]))] == expected


def test_replaying_a_tickets_history_gives_its_current_status_tags_and_custom_fields(
    emulator, run_tap
):
    run = _sync(run_tap, emulator, ["ticket_field_history"])

    _assert_replay_gives_current_tickets(emulator, run.records("ticket_field_history"))


def test_replaying_the_history_of_several_runs_gives_the_current_tickets(emulator, run_tap):
    """Tag changes the export gives only as added/removed tags, in a later run than the
    ticket's creation, still replay to the ticket's tags."""
    first = _sync(run_tap, emulator, ["ticket_field_history"])
    emulator.mutate(update_tickets=12, create_tickets=2)
    second = _sync(run_tap, emulator, ["ticket_field_history"], state=first.final_state)

    later = second.records("ticket_field_history")
    assert any(row["field_name"] == "tags" and row["value"] is None for row in later), (
        "no tag change given only as a difference: the test would not test it"
    )
    _assert_replay_gives_current_tickets(emulator, first.records("ticket_field_history") + later)


def test_history_costs_no_request_beyond_the_audits(emulator, run_tap):
    emulator.reset_stats()
    _sync(run_tap, emulator, ["ticket_audits"])
    audits_only = emulator.stats["total_requests"]
    emulator.reset_stats()

    _sync(run_tap, emulator, ["ticket_audits", "ticket_field_history"])

    assert emulator.stats["total_requests"] == audits_only


def test_the_next_run_brings_only_the_new_changes(emulator, run_tap):
    first = _sync(run_tap, emulator, ["ticket_field_history"])
    before = set(_changes(emulator))
    emulator.mutate(update_tickets=4, create_tickets=2)

    second = _sync(run_tap, emulator, ["ticket_field_history"], state=first.final_state)

    keys = {(row["audit_id"], row["field_name"]) for row in second.records("ticket_field_history")}
    assert keys
    assert keys == set(_changes(emulator)) - before


def test_reading_history_alone_does_not_move_the_audits_bookmark(emulator, run_tap):
    """ticket_audits runs to feed the history but emits nothing: selecting it later must
    still bring every audit."""
    first = _sync(run_tap, emulator, ["ticket_field_history"])
    assert first.final_state["bookmarks"].get("ticket_audits", {}).get("end_time") is None

    second = _sync(run_tap, emulator, ["ticket_audits", "ticket_field_history"], first.final_state)

    audits = {event["id"] for event in emulator.dataset.ticket_events(include_comments=False)}
    assert set(second.ids("ticket_audits")) == audits
    # The audits' own bookmark starts over, so the history comes again: a target merges it.
    keys = {(row["audit_id"], row["field_name"]) for row in second.records("ticket_field_history")}
    assert keys == set(_changes(emulator))
