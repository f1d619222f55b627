"""Typed custom-field columns: one column per active ticket, user and organization field.

Column names come from the field's id (tickets, `cf_<id>`) or key (users and organizations,
`cf_<key>` lower-cased), never from its title; types come from the field's Zendesk type. The
raw `custom_fields` / `user_fields` / `organization_fields` stay as Zendesk sent them.
"""

from __future__ import annotations

import json
import typing as t

import pytest
from jsonschema import Draft202012Validator

from tests.emulator.catalog import MISFIT_EMPLOYEES, MISFIT_USER_SEATS
from tests.support.schemas import format_checker
from tests.support.tap import catalog_for, config_for

STREAMS = ("tickets", "users", "organizations")
# Each stream: the field definitions' endpoint and where its records keep the values.
SOURCES = {
    "tickets": ("ticket_fields", "custom_fields"),
    "users": ("user_fields", "user_fields"),
    "organizations": ("organization_fields", "organization_fields"),
}
DEFINITION_PATHS = [f"/api/v2/{kind}.json" for kind, _ in SOURCES.values()]
STRING = {"type": ["string", "null"]}
EXPECTED_TYPES: dict[str, dict[str, t.Any]] = {
    "text": STRING,
    "textarea": STRING,
    "regexp": STRING,
    "partialcreditcard": STRING,
    "tagger": STRING,
    "dropdown": STRING,
    "integer": {"type": ["integer", "null"]},
    "lookup": {"type": ["integer", "null"]},
    "decimal": {"type": ["number", "null"]},
    "checkbox": {"type": ["boolean", "null"]},
    "date": {"type": ["string", "null"], "format": "date"},
    "multiselect": {"type": ["array", "null"], "items": {"type": "string"}},
}
SYSTEM_TYPES = {"subject", "description", "status", "tickettype", "priority", "group"}


def column_of(stream: str, field: dict[str, t.Any]) -> str:
    return f"cf_{field['id']}" if stream == "tickets" else f"cf_{field['key'].lower()}"


def custom_fields(emulator, stream: str) -> list[dict[str, t.Any]]:
    """The emulator's custom (non-system) field definitions of a stream, active or not."""
    kind, _ = SOURCES[stream]
    return [
        f
        for f in emulator.field_definitions(kind)
        if f.get("removable", True) and f["type"] not in SYSTEM_TYPES | {"assignee"}
    ]


def raw_values(stream: str, record: dict[str, t.Any]) -> dict[t.Any, t.Any]:
    """A record's raw custom field values by field id (tickets) or key."""
    _, values_key = SOURCES[stream]
    raw = record[values_key]
    return {v["id"]: v["value"] for v in raw} if stream == "tickets" else raw


def typed(field_type: str, value: t.Any) -> t.Any:
    """What the typed column must hold for a raw value the emulator generates."""
    if value in (MISFIT_USER_SEATS, MISFIT_EMPLOYEES):
        return None
    if field_type == "date" and value is not None:
        return value[:10]  # user date fields may come as midnight date-times
    if field_type == "decimal" and isinstance(value, str):
        return float(value)  # numeric text, as the docs show number values
    return value


def discover(run_tap, config) -> dict[str, dict[str, t.Any]]:
    run = run_tap(config, args=["--discover"])
    assert run.returncode == 0, run.stderr
    return {entry["tap_stream_id"]: entry for entry in json.loads(run.stdout)["streams"]}


def selected(catalog: dict[str, t.Any], streams: list[str]) -> dict[str, t.Any]:
    """`catalog` with only `streams` selected."""
    for entry in catalog["streams"]:
        root = next(m for m in entry["metadata"] if m["breadcrumb"] == [])
        root["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return catalog


def typed_properties(entry: dict[str, t.Any]) -> dict[str, dict[str, t.Any]]:
    return {k: v for k, v in entry["schema"]["properties"].items() if k.startswith("cf_")}


def schemas_of(run) -> dict[str, dict[str, t.Any]]:
    return {m["stream"]: m["schema"] for m in run.messages if m["type"] == "SCHEMA"}


# --- discovery -------------------------------------------------------------------------------


def test_discovery_gives_each_active_custom_field_a_column_of_its_type(emulator, run_tap):
    catalog = discover(run_tap, config_for(emulator))

    for stream in STREAMS:
        fields = custom_fields(emulator, stream)
        columns = typed_properties(catalog[stream])
        expected = {column_of(stream, f): f for f in fields if f["active"]}
        assert set(columns) == set(expected), stream
        for name, field in expected.items():
            declared = {k: v for k, v in columns[name].items() if k != "description"}
            assert declared == EXPECTED_TYPES[field["type"]], (stream, field["type"])
        inactive = [f for f in fields if not f["active"]]
        assert inactive, "the emulator should have an inactive field"
        assert all(column_of(stream, f) not in columns for f in inactive)
    # The raw values keep their own property.
    assert "custom_fields" in catalog["tickets"]["schema"]["properties"]
    assert "user_fields" in catalog["users"]["schema"]["properties"]


def test_system_ticket_fields_get_no_column(emulator, run_tap):
    catalog = discover(run_tap, config_for(emulator))

    columns = typed_properties(catalog["tickets"])
    system = [f for f in emulator.field_definitions("ticket_fields") if f["type"] in SYSTEM_TYPES]
    assert system
    assert all(f"cf_{f['id']}" not in columns for f in system)
    assert "cf_costcenter" in typed_properties(catalog["users"])  # key CostCenter, lower-cased


def test_discovery_reads_each_definition_endpoint_once(emulator, run_tap):
    discover(run_tap, config_for(emulator))

    requests = emulator.stats["requests_by_path"]
    assert [requests.get(path) for path in DEFINITION_PATHS] == [1, 1, 1]


def test_a_renamed_field_keeps_its_column(emulator, run_tap):
    config = config_for(emulator)
    before = discover(run_tap, config)
    ticket_field = custom_fields(emulator, "tickets")[0]
    user_field = next(f for f in custom_fields(emulator, "users") if f["key"] == "seats")

    emulator.rename_field(ticket_field["id"], "Renamed by an admin")
    emulator.rename_field(user_field["id"], "Licensed seats")
    after = discover(run_tap, config)

    for stream in STREAMS:
        assert typed_properties(after[stream]).keys() == typed_properties(before[stream]).keys()
    # Only the description, for people reading the catalog, follows the title.
    ticket_column = typed_properties(after["tickets"])[column_of("tickets", ticket_field)]
    assert "Renamed by an admin" in ticket_column["description"]
    assert "Licensed seats" in typed_properties(after["users"])["cf_seats"]["description"]


# --- records ---------------------------------------------------------------------------------


def test_records_carry_the_raw_values_typed(emulator, run_tap):
    config = config_for(emulator)
    run = run_tap(config, catalog=catalog_for(config, STREAMS))

    assert run.returncode == 0, run.stderr
    for stream in STREAMS:
        truth = {obj["id"]: obj for obj in emulator.dataset.visible(stream)}
        records = run.records(stream)
        assert sorted(r["id"] for r in records) == sorted(truth), stream
        active = [f for f in custom_fields(emulator, stream) if f["active"]]
        filled = 0
        for record in records:
            raw = raw_values(stream, truth[record["id"]])
            assert raw_values(stream, record) == raw  # the raw values are untouched
            for field in active:
                value = raw.get(field["id"] if stream == "tickets" else field["key"])
                assert record[column_of(stream, field)] == typed(field["type"], value)
                filled += value is not None
        assert filled, stream


def test_records_validate_against_the_emitted_schema(emulator, run_tap):
    config = config_for(emulator)
    run = run_tap(config, catalog=catalog_for(config, STREAMS))

    schemas = schemas_of(run)
    for stream in STREAMS:
        assert typed_properties({"schema": schemas[stream]})
        validator = Draft202012Validator(schemas[stream], format_checker=format_checker())
        problems = [
            f"{record['id']} {error.json_path}: {error.message}"
            for record in run.records(stream)
            for error in validator.iter_errors(record)
        ]
        assert problems == [], stream


def test_an_ill_typed_value_leaves_the_column_null_and_is_warned_about_once(emulator, run_tap):
    config = config_for(emulator)
    run = run_tap(config, catalog=catalog_for(config, ["users", "organizations"]))

    assert run.returncode == 0, run.stderr
    misfits = [u for u in run.records("users") if u["user_fields"]["seats"] == MISFIT_USER_SEATS]
    assert len(misfits) > 1
    assert all(u["cf_seats"] is None for u in misfits)
    warnings = [line for line in run.stderr.splitlines() if "cf_seats" in line]
    assert len(warnings) == 1
    assert "WARNING" in warnings[0]
    assert '"Seats"' in warnings[0]
    assert repr(MISFIT_USER_SEATS) in warnings[0]
    orgs = [o for o in run.records("organizations") if o["cf_employees"] is None]
    assert any(o["organization_fields"]["employees"] == MISFIT_EMPLOYEES for o in orgs)
    assert sum("cf_employees" in line for line in run.stderr.splitlines()) == 1


def test_lossless_conversions_are_silent(emulator, run_tap):
    """Numeric text in a decimal field and date-times in a date field convert without a warning."""
    config = config_for(emulator)
    run = run_tap(config, catalog=catalog_for(config, ["users", "organizations"]))

    users = run.records("users")
    assert any(
        u["user_fields"]["customer_since"] not in (None, u["cf_customer_since"]) for u in users
    )
    orgs = run.records("organizations")
    assert any(isinstance(o["organization_fields"]["health_score"], str) for o in orgs)
    assert all(isinstance(o["cf_health_score"], (float, type(None))) for o in orgs)
    assert "cf_customer_since" not in run.stderr
    assert "cf_health_score" not in run.stderr


# --- a given catalog -------------------------------------------------------------------------


def test_a_run_with_a_catalog_emits_only_the_catalogued_columns(emulator, run_tap):
    """A field created after discovery (here: a column taken out of the catalog) is not
    emitted until the next discovery, and nothing fails."""
    config = config_for(emulator)
    catalog = catalog_for(config, ["users"])
    users = next(e for e in catalog["streams"] if e["tap_stream_id"] == "users")
    del users["schema"]["properties"]["cf_vip"]
    users["metadata"] = [
        m for m in users["metadata"] if m["breadcrumb"] != ["properties", "cf_vip"]
    ]

    run = run_tap(config, catalog=catalog)

    assert run.returncode == 0, run.stderr
    assert "cf_vip" not in schemas_of(run)["users"]["properties"]
    records = run.records("users")
    assert records
    assert all("cf_vip" not in r and "cf_seats" in r for r in records)
    assert any(r["cf_plan_tier"] is not None for r in records)


def test_a_catalog_without_typed_columns_asks_for_no_definitions(emulator, run_tap):
    config = config_for(emulator)
    catalog = catalog_for(config_for(emulator, typed_custom_fields=False), STREAMS)
    emulator.reset_stats()

    run = run_tap(config, catalog=catalog)

    assert run.returncode == 0, run.stderr
    assert run.records("users")
    assert all(not k.startswith("cf_") for r in run.records("users") for k in r)
    requests = emulator.stats["requests_by_path"]
    assert not any(path in requests for path in DEFINITION_PATHS)


# --- turned off, or not allowed --------------------------------------------------------------


@pytest.mark.parametrize("setting", [{"typed_custom_fields": False}, {"legacy_schema": True}])
def test_no_typed_columns_when_turned_off(emulator, run_tap, setting):
    catalog = discover(run_tap, config_for(emulator, **setting))

    assert all(not typed_properties(entry) for entry in catalog.values())
    requests = emulator.stats["requests_by_path"]
    assert not any(path in requests for path in DEFINITION_PATHS)


@pytest.mark.parametrize("refusal", ["forbidden_paths", "missing_paths"])
def test_user_fields_refused_leave_users_without_typed_columns(emulator, run_tap, refusal):
    emulator.configure(**{refusal: ["/api/v2/user_fields"]})
    config = config_for(emulator)

    discovery = run_tap(config, args=["--discover"])
    catalog = json.loads(discovery.stdout)
    run = run_tap(config, catalog=selected(catalog, ["users", "organizations"]))

    warned = [line for line in discovery.stderr.splitlines() if "/user_fields.json" in line]
    assert len(warned) == 1
    assert "no typed custom-field columns" in warned[0]
    assert run.returncode == 0, run.stderr
    users = run.records("users")
    assert sorted(u["id"] for u in users) == sorted(emulator.dataset.ids("users"))
    assert all(not k.startswith("cf_") for u in users for k in u)
    assert all("cf_region" in o for o in run.records("organizations"))


# --- naming and conversion rules -------------------------------------------------------------
