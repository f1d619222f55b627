"""AI-agent tickets (`ticket_scope`): the real tap against the emulator.

Zendesk's ticket exports and ticket events export leave AI-agent tickets out unless asked
(`support_type_scope`, default `agent`). The tap asks for `all` by default, on every request
of those exports, and `ticket_scope` narrows it.
"""

from __future__ import annotations

import pytest

from tests.support.tap import catalog_for, config_for

TICKETS_EXPORT = "/api/v2/incremental/tickets/cursor.json"
EVENTS_EXPORT = "/api/v2/incremental/ticket_events.json"
STREAMS = ("tickets", "ticket_audits", "ticket_comments", "ticket_events")


@pytest.fixture
def emulator(make_emulator):
    return make_emulator(tickets=150, users=40, organizations=15)


def _sync(run_tap, emulator, streams=STREAMS, **settings):
    """A run with only `streams` selected, on small pages so every export has follow-ups;
    emulator stats count this run's requests only."""
    config = config_for(emulator, **{"page_size": 25, **settings})
    catalog = catalog_for(config, streams)
    emulator.reset_stats()
    run = run_tap(config, catalog=catalog)
    assert run.returncode == 0, run.stderr
    return run


def _event_tickets(emulator) -> dict[int, int]:
    """Ticket of every ticket events export item (audit) and of every comment, by id."""
    owners = {}
    for event in emulator.dataset.ticket_events(include_comments=True):
        owners[event["id"]] = event["ticket_id"]
        for child in event["child_events"]:
            if child["event_type"] == "Comment":
                owners[child["id"]] = event["ticket_id"]
    return owners


def _assert_scope_on_every_request(emulator, scope: str, paths=(TICKETS_EXPORT, EVENTS_EXPORT)):
    stats = emulator.stats
    for path in paths:
        requests = stats["requests_by_path"][path]
        assert requests > 1, f"{path}: no cursor or next-page follow-up was exercised"
        assert stats["scope_by_path"][path] == {scope: requests}, path


def test_by_default_every_ticket_comes_ai_agent_ones_included(emulator, run_tap):
    run = _sync(run_tap, emulator)

    ai_agent = set(emulator.dataset.ai_agent_ids())
    assert ai_agent
    assert run.ids("tickets") == [i for i, _ in emulator.dataset.truth("tickets")]
    assert ai_agent <= set(run.ids("tickets"))
    owners = _event_tickets(emulator)
    every_event = [i for i, _ in emulator.dataset.truth("ticket_events")]
    assert sorted(run.ids("ticket_audits")) == sorted(every_event)
    assert sorted(run.ids("ticket_events")) == sorted(every_event)
    comments = run.records("ticket_comments")
    assert {c["id"] for c in comments} == {i for i in owners if i not in set(every_event)}
    assert {c["ticket_id"] for c in comments} & ai_agent
    assert {a["ticket_id"] for a in run.records("ticket_audits")} & ai_agent
    _assert_scope_on_every_request(emulator, "all")


def test_agent_scope_leaves_ai_agent_tickets_out(emulator, run_tap):
    run = _sync(run_tap, emulator, ticket_scope="agent")

    ai_agent = set(emulator.dataset.ai_agent_ids())
    expected = [i for i, _ in emulator.dataset.truth("tickets", scope="agent")]
    assert run.ids("tickets") == expected
    assert not set(run.ids("tickets")) & ai_agent
    agent_events = {i for i, _ in emulator.dataset.truth("ticket_events", scope="agent")}
    assert set(run.ids("ticket_audits")) == agent_events
    assert set(run.ids("ticket_events")) == agent_events
    for stream in ("ticket_audits", "ticket_comments", "ticket_events"):
        assert run.records(stream)
        assert not {r["ticket_id"] for r in run.records(stream)} & ai_agent, stream
    _assert_scope_on_every_request(emulator, "agent")


def test_ai_agent_scope_gives_only_ai_agent_tickets(emulator, run_tap):
    # Pages of 5: the few AI-agent tickets still take several tickets export requests.
    run = _sync(run_tap, emulator, ticket_scope="ai_agent", page_size=5)

    ai_agent = set(emulator.dataset.ai_agent_ids())
    assert set(run.ids("tickets")) == ai_agent
    bot_events = {i for i, _ in emulator.dataset.truth("ticket_events", scope="ai_agent")}
    assert set(run.ids("ticket_audits")) == bot_events
    for stream in ("ticket_audits", "ticket_comments", "ticket_events"):
        assert run.records(stream)
        assert {r["ticket_id"] for r in run.records(stream)} <= ai_agent, stream
    _assert_scope_on_every_request(emulator, "ai_agent")


@pytest.mark.parametrize("scope", ["all", "agent"])
def test_per_ticket_comments_read_the_tickets_export_with_the_scope(emulator, run_tap, scope):
    run = _sync(
        run_tap, emulator, ["ticket_comments"], comments_source="per_ticket", ticket_scope=scope
    )

    ai_agent = set(emulator.dataset.ai_agent_ids())
    live = {
        t["id"]: t
        for t in emulator.dataset.visible("tickets", scope=scope)
        if t["status"] != "deleted"
    }
    expected = {c["id"] for tid in live for c in emulator.dataset.comments(tid)}
    comments = run.records("ticket_comments")
    assert {c["id"] for c in comments} == expected
    has_ai_agent = bool({c["ticket_id"] for c in comments} & ai_agent)
    assert has_ai_agent is (scope == "all")
    _assert_scope_on_every_request(emulator, scope, (TICKETS_EXPORT,))
