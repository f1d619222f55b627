"""ticket_field_history: one row per change of any ticket field, from the audits already read.

No request of its own; run after run each change comes once, and replaying a ticket's history
ends at the ticket's current values.
"""

from __future__ import annotations

from tests.conftest import catalog_for, config_for


def _sync(run_tap, emulator, streams, state=None):
    config = config_for(emulator, page_size=40)
    run = run_tap(config, catalog=catalog_for(config, streams), state=state)
    assert run.returncode == 0, run.stderr
    return run


def _changes(emulator) -> dict[tuple[int, str], dict]:
    """Every field set by an audit in the emulator, keyed like the stream."""
    return {
        (audit["id"], child["field_name"]): {**child, "ticket_id": audit["ticket_id"]}
        for audit in emulator.dataset.ticket_events(include_comments=False)
        for child in audit["child_events"]
        if child["event_type"] in ("Create", "Change")
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
        if event["event_type"] == "Create":
            assert row["previous_value"] is None


def test_replaying_a_tickets_history_gives_its_current_status_and_tags(emulator, run_tap):
    run = _sync(run_tap, emulator, ["ticket_field_history"])
    latest: dict[tuple[int, str], dict] = {}
    rows = run.records("ticket_field_history")
    for row in sorted(rows, key=lambda r: (r["updated_at"], r["audit_id"])):
        latest[(row["ticket_id"], row["field_name"])] = row

    live = [t for t in emulator.dataset.visible("tickets") if t["status"] != "deleted"]
    assert live
    for ticket in live:
        assert latest[(ticket["id"], "status")]["value"] == ticket["status"]
        tags = latest.get((ticket["id"], "tags"))
        assert (tags["value"].split() if tags else []) == sorted(ticket["tags"])


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
