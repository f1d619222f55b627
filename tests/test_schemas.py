"""The stream schemas describe every Zendesk object we have seen, and describe it strictly.

`tests/fixtures/<stream>.json` holds ticket, user and organization objects copied from the
research samples (recorded zenpy cassettes, go-zendesk fixtures, Airbyte records, and the
examples in Zendesk's API reference), including the incremental-export items. Each
fixture is a JSON list of API objects as Zendesk returns them, with one exception: the
CSRF `authenticity_token` of `/users/me` has been removed, because the tap must never
extract it.

The schemas are read the way the tap reads them, through `SCHEMAS` (a SchemaDirectory
that inlines the fragments in `schemas/shared/`).
"""

from __future__ import annotations

import copy
import datetime
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from tap_zendesk.schemas import SCHEMAS

FIXTURES = Path(__file__).parent / "fixtures"

KEY_PROPERTIES = {"tickets": ["id"], "users": ["id"], "organizations": ["id"]}
REPLICATION_KEYS = {
    "tickets": "generated_timestamp",
    "users": "updated_at",
    "organizations": "updated_at",
}
STREAMS = sorted(KEY_PROPERTIES)

Schema = dict[str, Any]


# --- helpers -----------------------------------------------------------------------------


def resolved_schema(stream: str) -> Schema:
    """The stream's schema with shared fragments inlined (a copy, safe to mutate)."""
    return copy.deepcopy(SCHEMAS.get_schema(stream, key_properties=KEY_PROPERTIES[stream]))


def recorded_objects(stream: str) -> list[dict[str, Any]]:
    """The API objects recorded for the stream."""
    return json.loads((FIXTURES / f"{stream}.json").read_text(encoding="utf-8"))


def types_of(schema: Schema) -> list[str]:
    """The schema's `type` as a list."""
    declared = schema.get("type", [])
    return [declared] if isinstance(declared, str) else list(declared)


def undeclared_keys(value: Any, schema: Schema, path: str) -> Iterator[str]:
    """Yield the path of every key in `value` that `schema` does not declare.

    Objects are checked against `properties`; a key missing there is accepted only
    when `additionalProperties` declares the open map (custom fields, via.source.from).
    Arrays are checked item by item against `items`.
    """
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in properties:
                yield from undeclared_keys(item, properties[key], f"{path}.{key}")
            elif isinstance(extra, dict):
                yield from undeclared_keys(item, extra, f"{path}.{key}")
            elif extra is not True:
                yield f"{path}.{key}"
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from undeclared_keys(item, schema.get("items", {}), f"{path}[{index}]")


def subschemas(schema: Schema, path: str = "$") -> Iterator[tuple[str, Schema]]:
    """Yield (path, schema) for the schema and every property, item and map value below."""
    yield path, schema
    for name, prop in schema.get("properties", {}).items():
        yield from subschemas(prop, f"{path}.{name}")
    if isinstance(schema.get("items"), dict):
        yield from subschemas(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from subschemas(schema["additionalProperties"], f"{path}.*")


def properties_of(schema: Schema, path: str = "$") -> Iterator[tuple[str, str, Schema]]:
    """Yield (path, name, schema) for every named property, at any depth."""
    for sub_path, sub in subschemas(schema, path):
        for name, prop in sub.get("properties", {}).items():
            yield f"{sub_path}.{name}", name, prop


RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$",
)


def is_rfc3339(value: object) -> bool:
    """True for an RFC 3339 date-time such as 2023-09-18T15:57:42Z."""
    if not isinstance(value, str):
        return True  # `format` only constrains strings
    if not RFC3339.match(value):
        return False
    try:
        datetime.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def format_checker() -> FormatChecker:
    """Draft 2020-12's FORMAT_CHECKER, with `date-time` enforced.

    jsonschema only checks `date-time` when the optional rfc3339-validator package is
    installed; without it the format would pass silently, so supply a checker here.
    """
    checker = FormatChecker(Draft202012Validator.FORMAT_CHECKER.checkers)
    if "date-time" not in checker.checkers:
        checker.checks("date-time")(is_rfc3339)
    return checker


# --- the guarantees --------------------------------------------------------------------


@pytest.mark.parametrize("stream", STREAMS)
def test_fixtures_are_present(stream: str):
    """Each stream has recorded objects to test against."""
    assert recorded_objects(stream), f"tests/fixtures/{stream}.json is empty"


@pytest.mark.parametrize("stream", STREAMS)
def test_every_recorded_key_is_declared(stream: str):
    """No key Zendesk has been seen to send is dropped by the tap.

    singer-sdk removes record keys that the schema does not declare, so every key of
    every recorded object, at any depth, must be a declared property (or fall in a
    declared open map such as user_fields).
    """
    schema = resolved_schema(stream)
    missing = sorted(
        {
            re.sub(r"\[\d+\]", "[]", path)
            for obj in recorded_objects(stream)
            for path in undeclared_keys(obj, schema, "$")
        }
    )
    assert missing == [], f"{stream}: keys missing from the schema: {missing}"


@pytest.mark.parametrize("stream", STREAMS)
def test_recorded_objects_validate(stream: str):
    """Every recorded object is valid against the schema, formats included."""
    schema = resolved_schema(stream)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=format_checker())
    problems = [
        f"id={obj.get('id')} at {error.json_path}: {error.message}"
        for obj in recorded_objects(stream)
        for error in validator.iter_errors(obj)
    ]
    assert problems == []


def test_date_time_format_is_really_checked():
    """The validator used above rejects malformed timestamps, so format checks are real."""
    schema = {"type": "string", "format": "date-time"}
    validator = Draft202012Validator(schema, format_checker=format_checker())
    assert validator.is_valid("2023-09-18T15:57:42Z")
    assert validator.is_valid("2018-11-04T00:00:00+00:00")
    assert not validator.is_valid("2023-02-30T00:00:00Z")
    assert not validator.is_valid("18/09/2023")


@pytest.mark.parametrize("stream", STREAMS)
def test_shared_fragments_are_inlined(stream: str):
    """The tap emits self-contained schemas: no `$ref` survives resolution."""
    assert "$ref" not in json.dumps(resolved_schema(stream))


@pytest.mark.parametrize("stream", STREAMS)
def test_every_subschema_has_a_type(stream: str):
    """Nothing is typed as a bare `{}`: every property, item and map value names its types.

    singer-sdk rejects empty schemas, and targets need a type to create columns.
    """
    untyped = [path for path, sub in subschemas(resolved_schema(stream)) if not types_of(sub)]
    assert untyped == []


@pytest.mark.parametrize("stream", STREAMS)
def test_arrays_declare_their_items(stream: str):
    """Every array (or value that may be an array) says what its items are."""
    bare = [
        path
        for path, sub in subschemas(resolved_schema(stream))
        if "array" in types_of(sub) and not types_of(sub.get("items", {}))
    ]
    assert bare == []


@pytest.mark.parametrize("stream", STREAMS)
def test_key_property_is_a_non_null_integer(stream: str):
    """The primary key `id` is a plain 64-bit JSON integer and never null."""
    schema = resolved_schema(stream)
    assert schema["type"] == "object"
    assert "additionalProperties" not in schema
    assert schema["properties"]["id"]["type"] == "integer"


@pytest.mark.parametrize("stream", STREAMS)
def test_every_other_property_is_nullable(stream: str):
    """Apart from the top-level `id`, every property (at any depth) accepts null."""
    schema = resolved_schema(stream)
    not_nullable = [
        path
        for path, _, prop in properties_of(schema)
        if path != "$.id" and "null" not in types_of(prop)
    ]
    assert not_nullable == []


@pytest.mark.parametrize("stream", STREAMS)
def test_replication_key_is_declared(stream: str):
    """The replication key exists with the type the tap's bookmarks expect."""
    prop = resolved_schema(stream)["properties"][REPLICATION_KEYS[stream]]
    if stream == "tickets":
        assert types_of(prop) == ["integer", "null"]  # generated_timestamp: Unix seconds
        assert "format" not in prop
    else:
        assert prop["format"] == "date-time"
        assert "string" in types_of(prop)


@pytest.mark.parametrize("stream", STREAMS)
def test_ids_are_integers(stream: str):
    """`id`, `*_id` and `*_ids` are integers (arrays of integers), never strings or floats.

    Zendesk ids are 64-bit, so JSON integer it is. Exceptions are ids owned by other
    systems: `external_id` and Facebook's `facebook_id` are strings, and the
    any_channel `registered_integration_service_external_id` is too.
    """
    foreign = {"external_id", "facebook_id", "registered_integration_service_external_id"}
    wrong = []
    for path, name, prop in properties_of(resolved_schema(stream)):
        if name in foreign:
            continue
        if (name == "id" or name.endswith("_id")) and "integer" not in types_of(prop):
            wrong.append(path)
        if name.endswith("_ids") and types_of(prop.get("items", {})) != ["integer"]:
            wrong.append(path)
    assert wrong == []


@pytest.mark.parametrize("stream", STREAMS)
def test_timestamps_are_date_times(stream: str):
    """Every `*_at` property is a nullable string with format date-time."""
    wrong = [
        path
        for path, name, prop in properties_of(resolved_schema(stream))
        if name.endswith("_at")
        and (types_of(prop) != ["string", "null"] or prop.get("format") != "date-time")
    ]
    assert wrong == []


@pytest.mark.parametrize("stream", STREAMS)
def test_enumerations_are_not_constrained(stream: str):
    """No `enum`: Zendesk adds statuses, channels and roles, and a new value must not fail."""
    assert "enum" not in {key for _, sub in subschemas(resolved_schema(stream)) for key in sub}


def test_ticket_custom_field_values_may_be_any_recorded_shape():
    """custom_fields[].value accepts string, number, boolean, list of strings and null."""
    schema = resolved_schema("tickets")
    validator = Draft202012Validator(schema)
    for value in ["745", 745, 7.45, True, ["list", "of", "values"], None]:
        ticket = {"id": 1, "custom_fields": [{"id": 2, "value": value}]}
        assert validator.is_valid(ticket), value


def test_users_never_carry_the_csrf_token():
    """`authenticity_token` (only on /users/me) is not part of the users schema or fixtures."""
    assert "authenticity_token" not in resolved_schema("users")["properties"]
    assert all("authenticity_token" not in user for user in recorded_objects("users"))
