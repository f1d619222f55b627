"""What reaches stdout: each record as Zendesk sent it, minus keys the catalog does not carry."""

from __future__ import annotations

import copy
import json

import responses

from tap_zendesk.tap import TapZendesk
from tests.support.recorded import LAST_TICKETS_PAGE, MOCKED_ACCOUNT, TICKETS_EXPORT_URL
from tests.support.tap import catalog_for


def sync_tickets(page: dict, capsys, catalog: dict | None = None) -> list[dict]:
    with responses.RequestsMock() as mock:
        mock.get(TICKETS_EXPORT_URL, json=page)
        catalog = catalog or catalog_for(MOCKED_ACCOUNT, ["tickets"])
        TapZendesk(config=MOCKED_ACCOUNT, catalog=catalog, parse_env_config=False).sync_all()
    lines = capsys.readouterr().out.splitlines()
    return [json.loads(line) for line in lines]


def test_records_are_emitted_exactly_as_zendesk_sent_them(capsys):
    messages = sync_tickets(LAST_TICKETS_PAGE, capsys)

    records = [m["record"] for m in messages if m["type"] == "RECORD"]
    assert records == LAST_TICKETS_PAGE["tickets"]


def test_a_key_zendesk_added_since_the_schema_was_written_is_dropped_with_a_warning(capsys, caplog):
    page = copy.deepcopy(LAST_TICKETS_PAGE)
    page["tickets"][0]["brand_new_field"] = {"x": 1}

    messages = sync_tickets(page, capsys)

    record = next(m["record"] for m in messages if m["type"] == "RECORD")
    assert "brand_new_field" not in record
    assert record == LAST_TICKETS_PAGE["tickets"][0]
    assert "dropping properties not in the schema: ['brand_new_field']" in caplog.text


def test_a_property_deselected_in_the_catalog_is_not_emitted(capsys):
    catalog = catalog_for(MOCKED_ACCOUNT, ["tickets"])
    entry = next(s for s in catalog["streams"] if s["tap_stream_id"] == "tickets")
    for item in entry["metadata"]:
        if item["breadcrumb"] == ["properties", "description"]:
            item["metadata"]["selected"] = False

    messages = sync_tickets(LAST_TICKETS_PAGE, capsys, catalog)

    record = next(m["record"] for m in messages if m["type"] == "RECORD")
    assert "description" not in record
    assert "subject" in record
