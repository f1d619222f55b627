"""The ticket events export in the shape Zendesk sends it, replayed without the emulator.

`tests/fixtures/ticket_events_export_pages.json` holds two pages assembled from recorded and
documented pieces (its `_about` names the source of each): fields set as keys of their child
events, custom fields as `custom_ticket_fields`, tag changes as lists and as differences, an
older item without `created_at`, and event types with keys of their own. The emulator is our
own reading of the same sources; this test holds the tap to the sources themselves.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import responses

from tap_zendesk.tap import TapZendesk
from tests.support.recorded import FIXTURES, MOCKED_ACCOUNT
from tests.support.tap import assert_records_match_schemas, catalog_for
from tests.support.ticket_events import replay

PAGES = json.loads((FIXTURES / "ticket_events_export_pages.json").read_text())["pages"]
EXPORT = re.compile(r"https://acme\.zendesk\.com/api/v2/incremental/ticket_events\.json.*")
# Replayed responses need no pacing.
CONFIG = {
    **MOCKED_ACCOUNT,
    "start_date": "2021-06-01",
    "rate_limit_per_minute": 1_000_000,
    "export_rate_limit_per_minute": 1_000_000,
}
STREAMS = ("ticket_audits", "ticket_field_history", "ticket_events")


def _export(request) -> tuple[int, dict, str]:
    """The first page from the start date; then the second, which (as Zendesk does) starts
    with the items of the second the first page ended in again."""
    first, second = PAGES
    start = int(parse_qs(urlsplit(request.url).query)["start_time"][0])
    if start < first["end_time"]:
        return 200, {}, json.dumps(first)
    repeated = [i for i in first["ticket_events"] if i["timestamp"] == first["end_time"]]
    page = {**second, "ticket_events": repeated + second["ticket_events"]}
    return 200, {}, json.dumps(page)


def sync(capsys) -> tuple[list[dict], str]:
    """Sync the export's streams against the two pages; the messages and the raw output."""
    with responses.RequestsMock() as mock:
        mock.add_callback(responses.GET, EXPORT, callback=_export)
        catalog = catalog_for(CONFIG, STREAMS)
        TapZendesk(config=CONFIG, catalog=catalog, parse_env_config=False).sync_all()
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines()], out


def records(messages: list[dict], stream: str) -> list[dict]:
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == stream]


def test_every_record_validates_against_the_schema_emitted_for_it(capsys):
    messages, out = sync(capsys)

    assert_records_match_schemas(out)
    assert len(records(messages, "ticket_audits")) == 4
    assert len(records(messages, "ticket_events")) == 4


def test_each_field_set_is_one_history_row_named_as_zendesk_names_it(capsys):
    rows = records(sync(capsys)[0], "ticket_field_history")

    by_key = {(row["audit_id"], row["field_name"]): row for row in rows}
    assert len(by_key) == len(rows)
    created = {name for audit, name in by_key if audit == 407609531696}
    assert created == {
        "subject",
        "status",
        "priority",
        "type",
        "tags",
        "4101000002619",
        "4101000002620",
    }
    order = by_key[(407609600001, "4101000002619")]
    assert (order["field_id"], order["value"], order["previous_value"]) == (
        4101000002619,
        "ORD-82417",
        "ORD-82416",
    )
    assert by_key[(1717, "status")]["value"] == "solved"  # the older item without event_type
    assert by_key[(1717, "status")]["updated_at"] == "2021-06-24T10:05:49Z"
    # Events that set no field (comments, notifications, Cc, privacy, ratings) give no row.
    assert {row["event_id"] for row in rows}.isdisjoint(
        {407609531716, 407609531876, 407609600121, 407609700101, 407609700121}
    )


def test_a_tag_difference_becomes_the_whole_list_from_the_tags_seen_before(capsys):
    rows = records(sync(capsys)[0], "ticket_field_history")

    tags = [row for row in rows if row["field_name"] == "tags"]
    assert [(row["value"], row["previous_value"]) for row in tags] == [
        ("billing vip", None),
        ("vip urgent", "billing vip"),
        ("solved_by_refund urgent vip", "urgent vip"),
    ]
    assert (tags[1]["added_values"], tags[1]["removed_values"]) == ("urgent", "billing")


def test_replaying_the_history_gives_the_tickets_current_fields(capsys):
    current = replay(records(sync(capsys)[0], "ticket_field_history"))

    assert current[(101, "status")] == "solved"
    assert current[(101, "type")] == "incident"
    assert current[(101, "4101000002619")] == "ORD-82417"
    assert current[(101, "4101000002620")] == "gold"
    assert sorted(current[(101, "tags")].split()) == ["solved_by_refund", "urgent", "vip"]
    assert current[(27, "status")] == "solved"


def test_the_boundary_second_repeated_on_the_next_page_is_emitted_once(capsys):
    messages, _ = sync(capsys)

    for stream in ("ticket_audits", "ticket_events"):
        ids = [record["id"] for record in records(messages, stream)]
        assert sorted(ids) == sorted(set(ids)) == [1717, 407609531696, 407609600001, 407609700001]
