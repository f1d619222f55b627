"""Ticket side-loads: what `include=` brings along with the tickets export, at no extra request.

`ticket_sideloads` names the `include=` values sent on every tickets export request. Per-ticket
side-loads (metric_set, dates, slas, comment_count) stay on their ticket; object side-loads
(users, groups, organizations, brands) become records of their own streams, once each, when
those streams are selected. The metric sets also feed `ticket_metrics`, which asks for them by
itself when selected. `groups` and `brands` also read their own list endpoints.
"""

from __future__ import annotations

import json

import pytest
import requests
from jsonschema import Draft202012Validator

from tap_zendesk.schemas import SCHEMAS
from tests.emulator.exports import encode_cursor
from tests.emulator.sideloads import DATE_KEYS, slas
from tests.support.schemas import format_checker
from tests.support.tap import catalog_for, config_for

EXPORT = "/api/v2/incremental/tickets/cursor.json"
OBJECTS = ("users", "groups", "organizations", "brands")
# Which ticket keys reference each side-loaded kind.
REFERENCES = {
    "users": ("requester_id", "submitter_id", "assignee_id"),
    "groups": ("group_id",),
    "organizations": ("organization_id",),
    "brands": ("brand_id",),
}
# Groups' and brands' own lists: forbidden, they leave side-loads as the only source of their
# records (a 403 skips those streams). Users and organizations are core streams, which a 403
# would stop the run for: `_past_everything` sends their own exports beyond the last record.
OWN_ENDPOINTS = ["/api/v2/groups", "/api/v2/brands"]


@pytest.fixture
def emulator(make_emulator):
    # 120 tickets on 20-ticket pages: every group and brand recurs on several pages.
    return make_emulator(tickets=120, users=40, organizations=15)


def _sync(run_tap, emulator, streams, state=None, **settings):
    """A run with only `streams` selected; emulator stats count this run's requests only."""
    config = config_for(emulator, page_size=20, **settings)
    catalog = catalog_for(config, streams)
    emulator.reset_stats()
    run = run_tap(config, catalog=catalog, state=state)
    assert run.returncode == 0, run.stderr
    return run


def _past_everything(emulator):
    """A state whose users and organizations bookmarks lie after every record of theirs, so
    their own exports bring nothing and their records can only come from side-loads."""
    now = emulator.dataset.now()
    return {
        "bookmarks": {
            "users": {"cursor": encode_cursor(now, 1 << 62)},
            "organizations": {"end_time": now - 120, "boundary_ids": []},
        }
    }


def _truth_metric_sets(emulator):
    return {tid: emulator.dataset.metric_set(tid) for tid, _ in emulator.dataset.truth("tickets")}


def _schemas(run):
    return {m["stream"]: m["schema"] for m in run.messages if m["type"] == "SCHEMA"}


def test_include_is_sent_on_every_tickets_export_request(emulator, run_tap):
    _sync(run_tap, emulator, ["tickets"], ticket_sideloads=["metric_sets", "users"])

    stats = emulator.stats
    requests = stats["requests_by_path"][EXPORT]
    assert requests > 1
    assert stats["include_by_path"] == {EXPORT: {"metric_sets,users": requests}}


def test_without_side_loads_nothing_is_included(emulator, run_tap):
    run = _sync(run_tap, emulator, ["tickets"])

    assert emulator.stats["include_by_path"] == {}
    added = {"metric_set", "dates", "slas", "comment_count"}
    assert not added & set(_schemas(run)["tickets"]["properties"])
    assert all(not added & set(ticket) for ticket in run.records("tickets"))


@pytest.mark.parametrize("style", ["embedded", "top_level"])
def test_each_ticket_carries_its_metric_set_and_ticket_metrics_mirrors_them(
    emulator, run_tap, style
):
    """Zendesk has been seen embedding metric sets and listing them by ticket_id: both work."""
    emulator.configure(metric_sets_style=style)
    run = _sync(run_tap, emulator, ["tickets", "ticket_metrics"], ticket_sideloads=["metric_sets"])

    truth = _truth_metric_sets(emulator)
    tickets = run.records("tickets")
    assert len(tickets) == len(truth)
    for ticket in tickets:
        assert ticket["metric_set"] == truth[ticket["id"]]
    assert {row["ticket_id"]: row for row in run.records("ticket_metrics")} == truth
    assert len(run.records("ticket_metrics")) == len(truth)


def test_ticket_metrics_cost_no_request(emulator, run_tap):
    settings = {"ticket_sideloads": ["metric_sets"]}
    _sync(run_tap, emulator, ["tickets"], **settings)
    without = emulator.stats["total_requests"]

    run = _sync(run_tap, emulator, ["tickets", "ticket_metrics"], **settings)

    assert run.records("ticket_metrics")
    assert emulator.stats["total_requests"] == without


def test_selecting_ticket_metrics_asks_for_metric_sets_but_leaves_tickets_as_configured(
    emulator, run_tap
):
    run = _sync(run_tap, emulator, ["tickets", "ticket_metrics"], ticket_sideloads=["dates"])

    requests = emulator.stats["requests_by_path"][EXPORT]
    assert emulator.stats["include_by_path"] == {EXPORT: {"dates,metric_sets": requests}}
    assert {row["ticket_id"]: row for row in run.records("ticket_metrics")} == (
        _truth_metric_sets(emulator)
    )
    assert all("metric_set" not in ticket for ticket in run.records("tickets"))
    assert "metric_set" not in _schemas(run)["tickets"]["properties"]


def test_ticket_metrics_alone_still_reads_the_export_and_emits_no_ticket(emulator, run_tap):
    run = _sync(run_tap, emulator, ["ticket_metrics"])

    assert run.records("tickets") == []
    assert len(run.records("ticket_metrics")) == len(emulator.dataset.truth("tickets"))


def test_dates_slas_and_comment_count_land_on_each_ticket(emulator, run_tap):
    run = _sync(run_tap, emulator, ["tickets"], ticket_sideloads=["dates", "slas", "comment_count"])

    dataset = emulator.dataset
    truth = _truth_metric_sets(emulator)
    for ticket in run.records("tickets"):
        assert ticket["dates"] == {key: truth[ticket["id"]][key] for key in DATE_KEYS}
        assert ticket["slas"] == slas(dataset.get("tickets", ticket["id"]), dataset.seed)
        assert ticket["comment_count"] == len(dataset.comments(ticket["id"]))
        assert "metric_set" not in ticket
    assert any(ticket["slas"]["policy_metrics"] for ticket in run.records("tickets"))


def test_side_loaded_objects_are_records_of_their_streams_once_each(emulator, run_tap):
    emulator.configure(forbidden_paths=OWN_ENDPOINTS)
    run = _sync(
        run_tap,
        emulator,
        ["tickets", *OBJECTS],
        state=_past_everything(emulator),
        ticket_sideloads=list(OBJECTS),
    )

    tickets = emulator.dataset.visible("tickets")
    for kind in OBJECTS:
        referenced = {t[k] for t in tickets for k in REFERENCES[kind] if t[k] is not None}
        ids = run.ids(kind)
        assert len(ids) == len(set(ids)), f"{kind}: an object was emitted twice"
        assert set(ids) == referenced, kind
    # The same group and brand were side-loaded on every page, yet came out once.
    assert emulator.stats["requests_by_path"][EXPORT] > len(run.ids("brands"))
    objects = {
        "groups": {g["id"]: g for g in emulator.dataset.groups()},
        "brands": {b["id"]: b for b in emulator.dataset.brands()},
    }
    for kind in ("groups", "brands"):
        assert all(record == objects[kind][record["id"]] for record in run.records(kind))
    for kind in ("users", "organizations"):
        for record in run.records(kind):
            served = emulator.dataset.get(kind, record["id"])
            assert {key: record.get(key) for key in served} == served


def test_side_loaded_objects_of_deselected_streams_are_not_emitted(emulator, run_tap):
    run = _sync(run_tap, emulator, ["tickets", "groups"], ticket_sideloads=list(OBJECTS))

    emitted = {m["stream"] for m in run.messages if m["type"] in ("SCHEMA", "RECORD")}
    assert emitted == {"tickets", "groups"}
    requests = emulator.stats["requests_by_path"][EXPORT]
    assert emulator.stats["include_by_path"][EXPORT] == {",".join(OBJECTS): requests}
    # Groups: the list endpoint's, and those the tickets reference, once more.
    referenced = {t["group_id"] for t in emulator.dataset.visible("tickets")} - {None}
    assert sorted(run.ids("groups")) == sorted(
        [g["id"] for g in emulator.dataset.groups()] + list(referenced)
    )


def test_groups_and_brands_read_their_list_endpoints(emulator, run_tap):
    run = _sync(run_tap, emulator, ["groups", "brands"])

    assert run.records("groups") == emulator.dataset.groups()
    assert run.records("brands") == emulator.dataset.brands()
    requests = emulator.stats["requests_by_path"]
    assert requests == {"/api/v2/groups.json": 1, "/api/v2/brands.json": 1}


def test_groups_and_brands_forbidden_are_skipped_with_a_warning(emulator, run_tap):
    emulator.configure(forbidden_paths=["/api/v2/groups", "/api/v2/brands"])
    run = _sync(run_tap, emulator, ["groups", "brands", "tickets"])

    for stream in ("groups", "brands"):
        assert run.records(stream) == []
        assert f"Skipping stream '{stream}'" in run.stderr
    assert run.records("tickets")


def test_every_record_validates_against_its_schema(emulator, run_tap):
    run = _sync(
        run_tap,
        emulator,
        ["tickets", "ticket_metrics", *OBJECTS],
        ticket_sideloads=["metric_sets", "dates", "slas", "comment_count", *OBJECTS],
    )

    checked = set()
    for stream, schema in _schemas(run).items():
        validator = Draft202012Validator(schema, format_checker=format_checker())
        for record in run.records(stream):
            errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(record)]
            assert errors == [], f"{stream} {record.get('id')}"
            checked.add(stream)
    assert checked == {"tickets", "ticket_metrics", *OBJECTS}


def test_ticket_metrics_rows_have_the_shape_of_a_ticket_metric_set():
    """One metric set shape for the ticket property and the stream (the key id not null)."""
    row = SCHEMAS.get_schema("ticket_metrics")
    on_ticket = SCHEMAS.get_schema("tickets")["properties"]["metric_set"]
    assert row["type"] == "object"
    assert row["properties"]["id"] == {"type": "integer"}
    others = {name: schema for name, schema in row["properties"].items() if name != "id"}
    assert json.dumps(others, sort_keys=True) == json.dumps(
        {k: v for k, v in on_ticket["properties"].items() if k != "id"}, sort_keys=True
    )
    assert on_ticket["properties"]["id"] == {"type": ["integer", "null"]}


def test_emulated_time_export_side_loads_too_and_ignores_unknown_names(emulator):
    creds = emulator.credentials
    with requests.Session() as http:
        http.auth = (f"{creds['email']}/token", creds["api_token"])
        body = http.get(
            f"{emulator.url}/api/v2/incremental/tickets.json",
            params={"start_time": 0, "per_page": 20, "include": "brands,metric_sets,bogus"},
            timeout=10,
        ).json()

    assert set(body) >= {"tickets", "brands"}
    assert "bogus" not in body
    assert "include=brands%2Cmetric_sets%2Cbogus" in body["next_page"]
    for ticket in body["tickets"]:
        assert ticket["metric_set"] == emulator.dataset.metric_set(ticket["id"])
    assert {b["id"] for b in body["brands"]} == {t["brand_id"] for t in body["tickets"]}


def test_emulated_metric_sets_agree_with_their_tickets(emulator):
    for ticket in emulator.dataset.visible("tickets"):
        metrics = emulator.dataset.metric_set(ticket["id"])
        assert metrics["ticket_id"] == ticket["id"]
        assert metrics == emulator.dataset.metric_set(ticket["id"])
        times = [v for k, v in metrics.items() if k.endswith("_at") and v is not None]
        assert all(ticket["created_at"] <= at <= ticket["updated_at"] for at in times)
        assert (metrics["solved_at"] is not None) == (ticket["status"] in ("solved", "closed"))
        assert (metrics["assigned_at"] is not None) == (ticket["assignee_id"] is not None)
