"""Zendesk searches as streams: `search_<name>` per configured query, and `search_counts`.

The expected results are computed here from the emulator's dataset, not from its search
code: a ticket query finds exactly the tickets whose fields say so. The search export is
paced at Zendesk's 100 requests a minute, so page sizes are kept large enough for few pages.
"""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from tap_zendesk.config.settings import PER_TICKET_SIDELOADS
from tap_zendesk.schemas import SCHEMAS
from tap_zendesk.tap import TapZendesk
from tests.support.schemas import format_checker
from tests.support.tap import catalog_for, config_for

OPEN_AND_CLOSED = ["open_tickets", "closed_tickets"]
EXPORT = "/api/v2/search/export.json"
KINDS = {"ticket": "tickets", "user": "users", "organization": "organizations"}


def _tickets(emulator, keep) -> set[int]:
    return {t["id"] for t in emulator.dataset.visible("tickets") if keep(t)}


def _sync(run_tap, emulator, streams, **settings):
    config = config_for(emulator, **settings)
    return run_tap(config, catalog=catalog_for(config, streams))


def _schema(run, stream: str) -> dict:
    return next(
        m["schema"] for m in run.messages if m["type"] == "SCHEMA" and m["stream"] == stream
    )


def _assert_valid(run, stream: str) -> None:
    validator = Draft202012Validator(_schema(run, stream), format_checker=format_checker())
    problems = [
        f"{record.get('result_type')} {record['id']}: {error.message}"
        for record in run.records(stream)
        for error in validator.iter_errors(record)
    ]
    assert problems == []


def _mentioning(text: str, lines: list[str]) -> int:
    return sum(text in line for line in lines)


# The emulator ----------------------------------------------------------------------------


def test_the_emulator_answers_searches_as_zendesk_does(emu, http):
    api = f"{emu.url}/api/v2"
    count = http.get(f"{api}/search/count.json", params={"query": "type:ticket status:open"})
    assert count.json() == {"count": len(_tickets(emu, lambda t: t["status"] == "open"))}

    no_type = http.get(f"{api}/search/export.json", params={"query": "status:open"})
    assert no_type.status_code == 400
    assert no_type.json()["error"] == "invalid"

    too_deep = http.get(f"{api}/search.json", params={"query": "type:ticket", "page": 11})
    assert too_deep.status_code == 422
    assert "greater than Search Response Limits" in too_deep.json()["description"]

    unknown = http.get(f"{api}/search.json", params={"query": "colour:blue"})
    assert unknown.status_code == 400
    assert unknown.json() == {
        "error": "invalid",
        "description": "Invalid search: unknown keyword 'colour'",
    }


# Discovery --------------------------------------------------------------------------------


def test_each_query_is_a_stream_keyed_by_id_or_by_type_and_id(emulator):
    config = config_for(
        emulator,
        search_queries=[
            {"name": "urgent", "query": "type:ticket priority:urgent"},
            {"name": "everyone_new", "query": "created>2024-01-01"},
            {"name": "people", "query": "type:user type:organization"},
        ],
        premade_queries=OPEN_AND_CLOSED,
    )
    streams = {s["tap_stream_id"]: s for s in TapZendesk(config=config).catalog_dict["streams"]}

    keys = {
        name: list(s["key_properties"]) for name, s in streams.items() if name.startswith("search")
    }
    assert keys == {
        "search_urgent": ["id"],
        "search_everyone_new": ["result_type", "id"],
        "search_people": ["result_type", "id"],
        "search_open_tickets": ["id"],
        "search_closed_tickets": ["id"],
        "search_counts": ["query_name", "counted_at"],
    }
    for name in keys:
        assert streams[name]["replication_method"] == "FULL_TABLE", name
    # A search result is the ticket object: the export's side-load columns are not on it.
    tickets = SCHEMAS.get_schema("tickets")["properties"].keys() - PER_TICKET_SIDELOADS.values()
    urgent = streams["search_urgent"]["schema"]["properties"]
    assert urgent.keys() == {"result_type", *tickets}
    people = streams["search_people"]["schema"]["properties"]
    assert {"role", "domain_names"} <= people.keys()
    assert "subject" not in people


def test_without_queries_no_search_stream_is_offered(emulator):
    names = [
        s["tap_stream_id"] for s in TapZendesk(config=config_for(emulator)).catalog_dict["streams"]
    ]

    assert not [name for name in names if name.startswith("search")]


# Results ----------------------------------------------------------------------------------


def test_a_ticket_query_returns_exactly_the_matching_tickets(emulator, run_tap):
    query = "type:ticket status<solved priority:urgent priority:high order_by:updated sort:asc"
    run = _sync(
        run_tap,
        emulator,
        ["search_hot"],
        search_queries=[{"name": "hot", "query": query}],
        page_size=30,
    )

    assert run.returncode == 0, run.stderr
    expected = _tickets(
        emulator,
        lambda t: (
            t["status"] in {"new", "open", "pending", "hold"}
            and t["priority"] in {"urgent", "high"}
        ),
    )
    assert len(expected) > 30  # more than one page
    assert sorted(run.ids("search_hot")) == sorted(expected)
    for record in run.records("search_hot"):
        assert record == {**emulator.dataset.get("tickets", record["id"]), "result_type": "ticket"}
    _assert_valid(run, "search_hot")
    assert set(emulator.stats["requests_by_path"]) >= {EXPORT}
    assert "/api/v2/search.json" not in emulator.stats["requests_by_path"]


def test_the_search_export_reads_100_results_a_page_as_zendesk_advises(make_emulator, run_tap):
    emulator = make_emulator(tickets=250, users=5, organizations=3)
    # page_size is 1000 by default: the search export still asks for 100.
    run = _sync(
        run_tap, emulator, ["search_all"], search_queries=[{"name": "all", "query": "type:ticket"}]
    )

    assert run.returncode == 0, run.stderr
    expected = _tickets(emulator, lambda t: t["status"] != "deleted")
    assert len(expected) > 200
    assert sorted(run.ids("search_all")) == sorted(expected)
    assert emulator.stats["requests_by_path"][EXPORT] == -(-len(expected) // 100)


def test_premade_queries_are_the_open_and_the_closed_tickets(emulator, run_tap):
    streams = ["search_open_tickets", "search_closed_tickets"]
    run = _sync(run_tap, emulator, streams, premade_queries=OPEN_AND_CLOSED)

    assert run.returncode == 0, run.stderr
    for stream, status in zip(streams, ["open", "closed"], strict=True):
        expected = _tickets(emulator, lambda t, status=status: t["status"] == status)
        assert expected
        assert sorted(run.ids(stream)) == sorted(expected), stream
        _assert_valid(run, stream)


def test_a_query_of_several_types_emits_each_with_its_result_type(emulator, run_tap):
    # The earliest of the kinds' median creation dates: some of each kind on both sides.
    medians = []
    for kind in KINDS.values():
        created = sorted(obj["created_at"] for obj in emulator.dataset.visible(kind))
        medians.append(created[len(created) // 2])
    since = min(medians)[:10]
    run = _sync(
        run_tap,
        emulator,
        ["search_recent"],
        search_queries=[{"name": "recent", "query": f"created>={since}"}],
    )

    assert run.returncode == 0, run.stderr
    expected = {
        (result_type, obj["id"])
        for result_type, kind in KINDS.items()
        for obj in emulator.dataset.visible(kind, exclude_deleted=True)
        if obj["created_at"][:10] >= since
    }
    found = [(r["result_type"], r["id"]) for r in run.records("search_recent")]
    assert sorted(found) == sorted(expected)
    assert {result_type for result_type, _ in found} == {"ticket", "user", "organization"}
    properties = _schema(run, "search_recent")["properties"]
    assert {"result_type", "subject", "role", "domain_names"} <= properties.keys()
    _assert_valid(run, "search_recent")


def test_search_counts_has_one_row_per_query_with_the_true_count(emulator, run_tap):
    run = _sync(
        run_tap,
        emulator,
        ["search_counts"],
        premade_queries=OPEN_AND_CLOSED,
        search_queries=[{"name": "agents", "query": "type:user role:agent"}],
    )

    assert run.returncode == 0, run.stderr
    rows = {row["query_name"]: row for row in run.records("search_counts")}
    assert {name: row["count"] for name, row in rows.items()} == {
        "agents": sum(u["role"] == "agent" for u in emulator.dataset.visible("users")),
        "open_tickets": len(_tickets(emulator, lambda t: t["status"] == "open")),
        "closed_tickets": len(_tickets(emulator, lambda t: t["status"] == "closed")),
    }
    assert rows["open_tickets"]["query"] == "type:ticket status:open"
    assert len({row["counted_at"] for row in rows.values()}) == 1
    _assert_valid_counts = Draft202012Validator(
        _schema(run, "search_counts"), format_checker=format_checker()
    )
    assert all(_assert_valid_counts.is_valid(row) for row in rows.values())


# When Zendesk says no ---------------------------------------------------------------------


def test_an_expired_cursor_restarts_the_query_and_emits_each_result_once(emulator, run_tap):
    emulator.configure(expire_search_cursors=1)

    run = _sync(
        run_tap, emulator, ["search_open_tickets"], premade_queries=OPEN_AND_CLOSED, page_size=30
    )

    assert run.returncode == 0, run.stderr
    ids = run.ids("search_open_tickets")
    assert len(ids) == len(set(ids))
    assert set(ids) == _tickets(emulator, lambda t: t["status"] == "open")
    warnings = [
        line for line in run.stderr.splitlines() if "rejected the search export's cursor" in line
    ]
    assert len(warnings) == 1
    assert "skipping the 30 results already emitted" in warnings[0]


def test_a_cursor_rejected_again_after_the_restart_stops_the_run(emulator, run_tap):
    emulator.configure(expire_search_cursors=2)

    run = _sync(
        run_tap, emulator, ["search_open_tickets"], premade_queries=OPEN_AND_CLOSED, page_size=30
    )

    assert run.returncode == 1
    assert "rejected the search export's cursor again after a restart" in run.error_lines[-1]
    assert "Traceback" not in run.stderr


def test_search_json_stops_at_1000_results_with_one_warning(make_emulator, run_tap):
    emulator = make_emulator(tickets=1100, users=5, organizations=3)
    emulator.configure(missing_paths=["/api/v2/search/export"])

    run = _sync(
        run_tap, emulator, ["search_all"], search_queries=[{"name": "all", "query": "type:ticket"}]
    )

    assert run.returncode == 0, run.stderr
    ids = run.ids("search_all")
    expected = _tickets(emulator, lambda t: t["status"] != "deleted")
    assert len(expected) > 1000
    assert len(ids) == len(set(ids)) == 1000
    assert set(ids) <= expected
    warnings = [
        line for line in run.stderr.splitlines() if "WARNING" in line and "search_all" in line
    ]
    limit = [line for line in warnings if "at most 1000" in line and "emitted 1000" in line]
    assert len(limit) == 1
    assert f"has {len(expected)} results" in limit[0]
    assert "'type:ticket'" in limit[0]
    assert "split it into narrower search_queries" in limit[0]
    assert emulator.stats["requests_by_path"]["/api/v2/search.json"] == 10


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("type:ticket colour:blue", "invalid: Invalid search: unknown keyword 'colour'"),
        ("type:group billing", "search streams extract tickets, users and organizations"),
    ],
)
def test_a_query_zendesk_cannot_run_stops_with_one_line_naming_it(emulator, run_tap, query, reason):
    run = _sync(
        run_tap, emulator, ["search_broken"], search_queries=[{"name": "broken", "query": query}]
    )

    assert run.returncode == 1
    assert _mentioning(repr(query), run.error_lines) == 1
    last = run.error_lines[-1]
    assert "search_broken" in last
    assert repr(query) in last
    assert reason in last
    assert "Traceback" not in run.stderr
