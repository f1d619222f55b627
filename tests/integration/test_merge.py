"""Merge: a target that upserts on the key properties holds one row per record, the latest.

target-duckdb (an embedded database) loads two runs of the tap, the second from the state
the first left, with tickets changed, created and deleted in between. Any stream offers keys
a target can merge on: every key property is in the schema and never null.
"""

from __future__ import annotations

import pytest

from tap_zendesk.config.settings import PREMADE_QUERIES, TICKET_SIDELOADS
from tap_zendesk.tap import TapZendesk
from tests.support.tap import catalog_for, config_for, write_json
from tests.support.targets import duckdb_query, installed, pipe

# Every optional stream on: searches, side-loaded objects, attachments.
EVERY_STREAM = {
    "search_queries": [{"name": "vip", "query": "type:ticket tags:vip"}],
    "premade_queries": list(PREMADE_QUERIES),
    "ticket_sideloads": list(TICKET_SIDELOADS),
    "include_attachments": True,
}


def _types(schema: dict) -> set[str]:
    kind = schema.get("type", [])
    return {kind} if isinstance(kind, str) else set(kind)


@pytest.mark.parametrize("legacy_schema", [False, True], ids=["default", "legacy_schema"])
def test_every_stream_has_key_properties_a_target_can_merge_on(emulator, legacy_schema):
    config = config_for(emulator, legacy_schema=legacy_schema, **EVERY_STREAM)
    catalog = TapZendesk(config=config, parse_env_config=False).catalog_dict

    assert catalog["streams"]
    for entry in catalog["streams"]:
        stream, properties = entry["tap_stream_id"], entry["schema"]["properties"]
        keys = entry["key_properties"]
        assert keys, f"{stream} has no key properties: a target could only append it"
        for key in keys:
            assert key in properties, f"{stream}: key {key} is not in the schema"
            # The legacy layout copies the incumbent's types, which allow null even in keys;
            # targets make key columns NOT NULL anyway.
            if not legacy_schema:
                assert "null" not in _types(properties[key]), f"{stream}: key {key} may be null"
        if entry.get("replication_key"):
            assert entry["replication_key"] in properties, f"{stream}: replication key"


def test_target_duckdb_holds_one_row_per_ticket_with_its_latest_values(emulator, tmp_path):
    target = installed("target-duckdb")
    database = tmp_path / "warehouse.duckdb"
    target_config = {"path": str(database), "default_target_schema": "zendesk"}
    config = write_json(tmp_path / "config.json", config_for(emulator))
    catalog = write_json(tmp_path / "catalog.json", catalog_for(config_for(emulator), ["tickets"]))

    states = pipe(["--config", config, "--catalog", catalog], target, target_config, tmp_path)
    changes = emulator.mutate(update_tickets=6, create_tickets=4, delete_tickets=2)
    state = write_json(tmp_path / "state.json", states[-1])
    args = ["--config", config, "--catalog", catalog, "--state", state]
    pipe(args, target, target_config, tmp_path, name="second")
    changed = {*changes["update_tickets"], *changes["create_tickets"], *changes["delete_tickets"]}
    # The second run carries only the changed tickets: the others are kept by the target.
    assert f"Loading {len(changed)} rows into" in (tmp_path / "second-target.log").read_text()

    rows = duckdb_query(
        database, "select id, status, subject, generated_timestamp from zendesk.tickets"
    )
    ids = [row[0] for row in rows]
    assert len(ids) == len(set(ids)), "a ticket has two rows: the target appended, not merged"
    expected = {ticket["id"]: ticket for ticket in emulator.dataset.visible("tickets")}
    assert set(ids) == set(expected)
    for ticket_id, status, subject, generated in rows:
        ticket = expected[ticket_id]
        assert (status, subject, generated) == (
            ticket["status"],
            ticket["subject"],
            ticket["generated_timestamp"],
        ), f"ticket {ticket_id} does not hold its latest values"
    deleted = {row[0] for row in rows if row[1] == "deleted"}
    assert set(changes["delete_tickets"]) <= deleted
