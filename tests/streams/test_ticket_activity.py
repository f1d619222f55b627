"""Comments and audits: every one of every ticket, exactly once, run after run.

Comments are read in bulk from the ticket events export (default) or per ticket; both ways
give the same comments for every ticket that still exists.
"""

from __future__ import annotations

import pytest

from tests.support.tap import assert_no_secrets, catalog_for, config_for

ACTIVITY = ("ticket_comments", "ticket_audits")
SHARED_COMMENT_FIELDS = (
    "id",
    "ticket_id",
    "audit_id",
    "author_id",
    "body",
    "html_body",
    "plain_body",
    "public",
    "type",
    "via",
    "created_at",
    "attachments",
)


def _sync(run_tap, emulator, streams=ACTIVITY, state=None, **settings):
    config = config_for(emulator, page_size=25, **settings)
    run = run_tap(config, catalog=catalog_for(config, streams), state=state)
    assert run.returncode == 0, run.stderr
    return run


def _live_ticket_ids(emulator) -> set[int]:
    return {t["id"] for t in emulator.dataset.visible("tickets") if t["status"] != "deleted"}


def _all_comments(emulator) -> dict[int, dict]:
    """Every comment the events export carries, keyed by id, with its ticket."""
    return {
        child["id"]: {**child, "ticket_id": event["ticket_id"]}
        for event in emulator.dataset.ticket_events(include_comments=True)
        for child in event["child_events"]
        if child["event_type"] == "Comment"
    }


def test_comments_from_the_events_export_are_complete_and_unique(emulator, run_tap):
    run = _sync(run_tap, emulator, ["ticket_comments"])

    ids = run.ids("ticket_comments")
    assert len(ids) == len(set(ids))
    assert set(ids) == set(_all_comments(emulator))


def test_comments_of_deleted_tickets_keep_their_ticket_id(emulator, run_tap):
    run = _sync(run_tap, emulator, ["ticket_comments"])

    live = _live_ticket_ids(emulator)
    orphans = [c for c in run.records("ticket_comments") if c["ticket_id"] not in live]
    expected = {i for i, c in _all_comments(emulator).items() if c["ticket_id"] not in live}
    assert orphans
    assert {c["id"] for c in orphans} == expected


def test_per_ticket_comments_equal_the_events_export_for_every_live_ticket(emulator, run_tap):
    bulk = _sync(run_tap, emulator, ["ticket_comments"])
    per_ticket = _sync(run_tap, emulator, ["ticket_comments"], comments_source="per_ticket")

    live = _live_ticket_ids(emulator)

    def shared(run):
        return {
            c["id"]: {k: c[k] for k in SHARED_COMMENT_FIELDS}
            for c in run.records("ticket_comments")
            if c["ticket_id"] in live
        }

    assert shared(per_ticket) == shared(bulk)
    assert len(per_ticket.ids("ticket_comments")) == len(set(per_ticket.ids("ticket_comments")))
    assert shared(per_ticket)


def test_per_ticket_comments_carry_the_full_metadata(emulator, run_tap):
    run = _sync(run_tap, emulator, ["ticket_comments"], comments_source="per_ticket")

    for comment in run.records("ticket_comments")[:20]:
        expected = next(
            c for c in emulator.dataset.comments(comment["ticket_id"]) if c["id"] == comment["id"]
        )
        assert comment == {**expected, "ticket_id": comment["ticket_id"]}


def test_audits_are_complete_unique_and_carry_their_events(emulator, run_tap):
    run = _sync(run_tap, emulator, ["ticket_audits"])

    audits = {a["id"]: a for a in run.records("ticket_audits")}
    assert len(audits) == len(run.ids("ticket_audits"))
    exported = {e["id"]: e for e in emulator.dataset.ticket_events(include_comments=True)}
    assert set(audits) == set(exported)
    for audit_id, audit in list(audits.items())[:50]:
        event = exported[audit_id]
        assert audit["ticket_id"] == event["ticket_id"]
        assert audit["author_id"] == event["updater_id"]
        assert audit["events"] == event["child_events"]


@pytest.mark.parametrize("source", ["ticket_events", "per_ticket"])
def test_an_incremental_run_emits_exactly_the_new_comments_and_audits(emulator, run_tap, source):
    first = _sync(run_tap, emulator, comments_source=source)

    changes = emulator.mutate(update_tickets=6, create_tickets=3, delete_tickets=1)
    second = _sync(run_tap, emulator, state=first.final_state, comments_source=source)

    assert sorted(second.ids("ticket_comments")) == sorted(changes["comments"])
    assert sorted(second.ids("ticket_audits")) == sorted(changes["audits"])
    assert_no_secrets(second, emulator)


@pytest.mark.parametrize("refusal", ["forbidden_paths", "missing_paths"])
def test_a_ticket_zendesk_refuses_is_skipped_with_a_warning_and_the_rest_are_read(
    emulator, run_tap, refusal
):
    """A 403, or the 404 of a ticket deleted meanwhile, skips that ticket's comments only."""
    ticket = min(_live_ticket_ids(emulator))
    emulator.configure(**{refusal: [f"/api/v2/tickets/{ticket}/comments"]})

    run = _sync(run_tap, emulator, ["ticket_comments"], comments_source="per_ticket")

    assert f"skipped /tickets/{ticket}/comments.json" in run.stderr
    assert "Run summary: ticket_comments skipped 1 per-ticket read(s)" in run.stderr
    commented = {c["ticket_id"] for c in _all_comments(emulator).values()}
    assert {c["ticket_id"] for c in run.records("ticket_comments")} == commented & (
        _live_ticket_ids(emulator) - {ticket}
    )
