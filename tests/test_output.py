"""What reaches stdout: each record as Zendesk sent it, minus keys the catalog does not carry."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import responses

from tap_zendesk.tap import TapZendesk
from tests.conftest import catalog_for

RECORDED = json.loads((Path(__file__).parent / "fixtures" / "recorded_pages.json").read_text())
LAST_PAGE = RECORDED["responses"]["tickets_cursor_last_page"]["payload"]
EXPORT = "https://acme.zendesk.com/api/v2/incremental/tickets/cursor.json"
# Only the mocked endpoints answer: no field definitions to read at discovery.
CONFIG = {
    "url": "acme",
    "email": "admin@acme.com",
    "api_token": "tok",
    "start_date": "2024-01-01",
    "typed_custom_fields": False,
}


def sync_tickets(page: dict, capsys, catalog: dict | None = None) -> list[dict]:
    with responses.RequestsMock() as mock:
        mock.get(EXPORT, json=page)
        catalog = catalog or catalog_for(CONFIG, ["tickets"])
        TapZendesk(config=CONFIG, catalog=catalog, parse_env_config=False).sync_all()
    lines = capsys.readouterr().out.splitlines()
    return [json.loads(line) for line in lines]


def test_records_are_emitted_exactly_as_zendesk_sent_them(capsys):
    messages = sync_tickets(LAST_PAGE, capsys)

    records = [m["record"] for m in messages if m["type"] == "RECORD"]
    assert records == LAST_PAGE["tickets"]


def test_a_key_zendesk_added_since_the_schema_was_written_is_dropped_with_a_warning(capsys, caplog):
    page = copy.deepcopy(LAST_PAGE)
    page["tickets"][0]["brand_new_field"] = {"x": 1}

    messages = sync_tickets(page, capsys)

    record = next(m["record"] for m in messages if m["type"] == "RECORD")
    assert "brand_new_field" not in record
    assert record == LAST_PAGE["tickets"][0]
    assert "dropping properties not in the schema: ['brand_new_field']" in caplog.text


def test_a_property_deselected_in_the_catalog_is_not_emitted(capsys):
    catalog = catalog_for(CONFIG, ["tickets"])
    entry = next(s for s in catalog["streams"] if s["tap_stream_id"] == "tickets")
    for item in entry["metadata"]:
        if item["breadcrumb"] == ["properties", "description"]:
            item["metadata"]["selected"] = False

    messages = sync_tickets(LAST_PAGE, capsys, catalog)

    record = next(m["record"] for m in messages if m["type"] == "RECORD")
    assert "description" not in record
    assert "subject" in record
