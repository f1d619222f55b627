"""exclude_deleted: deleted rows are emitted by default (a merging target sees the delete) and
left out when the setting is on: tickets by Zendesk itself, the rest by the tap."""

from __future__ import annotations

import pytest

from tap_zendesk.tap import TapZendesk
from tests.emulator.exports import encode_cursor
from tests.support.tap import catalog_for, config_for

STREAMS = ("tickets", "users", "organizations", "ticket_metric_events")


def _deleted(emulator) -> dict[str, set[int]]:
    """The emulator's deleted rows of each stream, by the mark Zendesk gives them."""
    data = emulator.dataset
    return {
        "tickets": {t["id"] for t in data.visible("tickets") if t["status"] == "deleted"},
        "users": {u["id"] for u in data.visible("users") if u["active"] is False},
        "organizations": {o["id"] for o in data.visible("organizations") if o["deleted_at"]},
        "ticket_metric_events": {e["id"] for e in data.metric_events() if e.get("deleted")},
    }


def _all(emulator) -> dict[str, set[int]]:
    data = emulator.dataset
    return {
        "tickets": {t["id"] for t in data.visible("tickets")},
        "users": {u["id"] for u in data.visible("users")},
        "organizations": {o["id"] for o in data.visible("organizations")},
        "ticket_metric_events": {e["id"] for e in data.metric_events()},
    }


@pytest.fixture
def synced(emulator, run_tap):
    def sync(**settings):
        config = config_for(emulator, **settings)
        run = run_tap(config, catalog=catalog_for(config, STREAMS))
        assert run.returncode == 0, run.stderr
        return run

    return sync


def test_deleted_rows_are_emitted_by_default(emulator, synced):
    run = synced()
    deleted = _deleted(emulator)
    for stream in STREAMS:
        assert deleted[stream], f"the emulator should have deleted {stream}"
        assert deleted[stream] <= set(run.ids(stream)), stream


def test_exclude_deleted_leaves_out_exactly_the_deleted_rows(emulator, synced):
    run = synced(exclude_deleted=True)
    deleted, everything = _deleted(emulator), _all(emulator)
    for stream in STREAMS:
        assert set(run.ids(stream)) == everything[stream] - deleted[stream], stream


def test_zendesk_is_asked_to_leave_deleted_tickets_out(emulator):
    tap = TapZendesk(config=config_for(emulator, exclude_deleted=True), parse_env_config=False)

    assert tap.streams["tickets"].new_paginator(None).params()["exclude_deleted"] == "true"
    # Other exports have no such parameter: the tap drops their deleted rows itself.
    assert "exclude_deleted" not in tap.streams["users"].new_paginator(None).params()


@pytest.mark.parametrize("exclude", [False, True])
def test_side_loaded_deleted_users_and_organizations_follow_exclude_deleted(
    make_emulator, run_tap, exclude
):
    emulator = make_emulator(organizations=150)
    now = emulator.dataset.now()
    # Users' and organizations' own exports start after their last record, so every record
    # of theirs in this run arrived side-loaded with the tickets.
    state = {
        "bookmarks": {
            "users": {"cursor": encode_cursor(now, 1 << 62)},
            "organizations": {"end_time": now - 120, "boundary_ids": []},
        }
    }
    config = config_for(
        emulator, exclude_deleted=exclude, ticket_sideloads=["users", "organizations"]
    )
    run = run_tap(config, state=state, catalog=catalog_for(config, STREAMS[:3]))

    assert run.returncode == 0, run.stderr
    data = emulator.dataset
    tickets = data.visible("tickets", exclude_deleted=exclude)
    referenced = {
        "users": {
            t[key]
            for t in tickets
            for key in ("requester_id", "submitter_id", "assignee_id")
            if t[key] is not None
        },
        "organizations": {t["organization_id"] for t in tickets if t["organization_id"]},
    }
    deleted = _deleted(emulator)
    for stream in ("users", "organizations"):
        side_loaded_deleted = referenced[stream] & deleted[stream]
        assert side_loaded_deleted, f"no deleted {stream} is side-loaded: the test proves nothing"
        expected = referenced[stream] - deleted[stream] if exclude else referenced[stream]
        assert set(run.ids(stream)) == expected, stream
