"""Run after run, only what changed is extracted: nothing missed, nothing repeated."""

from __future__ import annotations

from tests.support.tap import STREAMS, as_served, config_for


def _changed_ids(changes: dict) -> dict[str, set[int]]:
    """Ids touched by `Emulator.mutate`, per stream ("update_tickets" -> "tickets")."""
    return {
        stream: {i for op, ids in changes.items() if op.endswith(f"_{stream}") for i in ids}
        for stream in STREAMS
    }


def test_second_run_emits_exactly_the_changed_and_new_records(emulator, run_tap):
    config = config_for(emulator, page_size=20)
    first = run_tap(config)
    assert first.returncode == 0, first.stderr

    changes = emulator.mutate(
        update_tickets=5,
        create_tickets=3,
        delete_tickets=1,
        system_update_tickets=2,
        update_users=2,
        create_users=1,
        update_organizations=2,
        create_organizations=1,
    )
    second = run_tap(config, state=first.final_state)

    assert second.returncode == 0, second.stderr
    for stream, expected in _changed_ids(changes).items():
        ids = second.ids(stream)
        assert sorted(ids) == sorted(expected), stream
        for record in second.records(stream):
            assert as_served(record) == emulator.dataset.get(stream, record["id"])


def test_a_run_with_nothing_changed_emits_no_records(emulator, run_tap):
    """Same config, same start: every stream resumes from its bookmark, none is re-read."""
    config = config_for(emulator)
    first = run_tap(config)

    second = run_tap(config, state=first.final_state)

    assert second.returncode == 0, second.stderr
    assert all(second.ids(stream) == [] for stream in STREAMS)
    assert second.final_state["bookmarks"] == first.final_state["bookmarks"]
    assert "re-reading" not in second.stderr


def test_system_updates_are_caught_by_generated_timestamp(emulator, run_tap):
    """Zendesk bumps generated_timestamp, not updated_at, on system updates."""
    config = config_for(emulator)
    first = run_tap(config)
    changes = emulator.mutate(system_update_tickets=3)

    second = run_tap(config, state=first.final_state)

    assert sorted(second.ids("tickets")) == sorted(changes["system_update_tickets"])
