"""The stream schemas describe every Zendesk object we have seen, and describe it strictly.

`tests/fixtures/<stream>.json` holds, as a JSON list, the records of each stream built from
the research samples (recorded zenpy cassettes, go-zendesk fixtures, Airbyte records, and
the examples in Zendesk's API reference), including the incremental-export items. Most
fixtures are API objects exactly as Zendesk returns them. The exceptions are the records
the tap itself reshapes:

- users: the CSRF `authenticity_token` of `/users/me` has been removed, because the tap
  must never extract it.
- ticket_comments: the recorded comment carries the `ticket_id` of its request URL, as the
  tap adds it; the export's comment child event has lost `event_type`, `via_reference_id`
  and `timestamp`, which a comment record does not have.
- ticket_audits: ticket_events export items mapped the way the tap maps them (the stream
  reads only the export) (`author_id` = `updater_id`, `metadata` = `{"system": system}`,
  `events` = `child_events`; `timestamp` and `event_type` dropped). The export's comment
  child event is put back under its audit (`id` = its `audit_id`).
- ticket_metric_events: the synthetic apply_group_sla event's policy id "PPP" is an integer.
- ticket_form_agent_conditions, ticket_form_end_user_conditions: rows flattened by hand
  from the docs' ticket form example, the only form with conditions.
- the account lists (memberships, tags, macros, views, triggers, automations, SLA policies,
  schedules, custom statuses, satisfaction ratings, deleted tickets, user and organization
  fields) and ticket_events: the API reference's examples and go-zendesk's recorded group
  memberships, with the deleted-ticket example's malformed `deleted_at` ("20140704T15:37:04Z")
  written as a date-time; a few more objects written by hand from the documented JSON format
  cover keys the examples lack (a non-default organization membership's `default: null`, a
  bad rating's `reason` and `reason_id`, a dropdown user field's options, trigger conditions).

The schemas are read the way the tap reads them, through `SCHEMAS` (a SchemaDirectory
that inlines the fragments in `schemas/shared/`).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tap_zendesk.schemas import SCHEMAS
from tests.support.schemas import format_checker

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

CONDITION_KEY = ["ticket_form_id", "parent_field_id", "value", "child_field_id"]
KEY_PROPERTIES = {
    "tickets": ["id"],
    "users": ["id"],
    "organizations": ["id"],
    "ticket_comments": ["id"],
    "ticket_audits": ["id"],
    "ticket_metric_events": ["id"],
    "ticket_fields": ["id"],
    "ticket_forms": ["id"],
    "ticket_form_agent_conditions": CONDITION_KEY,
    "ticket_form_end_user_conditions": CONDITION_KEY,
    "ticket_events": ["id"],
    "satisfaction_ratings": ["id"],
    "deleted_tickets": ["id"],
    "tags": ["name"],
    "custom_statuses": ["id"],
    "group_memberships": ["id"],
    "organization_memberships": ["id"],
    "user_fields": ["id"],
    "organization_fields": ["id"],
    "macros": ["id"],
    "views": ["id"],
    "triggers": ["id"],
    "automations": ["id"],
    "sla_policies": ["id"],
    "schedules": ["id"],
}
REPLICATION_KEYS = {
    "tickets": "generated_timestamp",
    "users": "updated_at",
    "organizations": "updated_at",
    "ticket_metric_events": "time",
    "satisfaction_ratings": "updated_at",
}
STREAMS = sorted(KEY_PROPERTIES)

Schema = dict[str, Any]


# --- helpers -----------------------------------------------------------------------------


def resolved_schema(stream: str) -> Schema:
    """The stream's schema with shared fragments inlined (a copy, safe to mutate)."""
    return copy.deepcopy(SCHEMAS.get_schema(stream, key_properties=KEY_PROPERTIES[stream]))


def record_key(stream: str, record: dict[str, Any]) -> str:
    """The record's primary key, for messages."""
    return ", ".join(f"{key}={record.get(key)!r}" for key in KEY_PROPERTIES[stream])


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
        f"{record_key(stream, obj)} at {error.json_path}: {error.message}"
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
def test_key_properties_are_never_null(stream: str):
    """Each key property is a top-level property that never accepts null.

    Ids in the key (`id`, `*_id`) are plain 64-bit JSON integers; the one other key
    column, a form condition's parent `value`, is text.
    """
    schema = resolved_schema(stream)
    assert schema["type"] == "object"
    assert "additionalProperties" not in schema
    for key in KEY_PROPERTIES[stream]:
        prop = schema["properties"][key]
        if key == "id" or key.endswith("_id"):
            assert prop["type"] == "integer", key
        else:
            assert types_of(prop) == ["string"], key


@pytest.mark.parametrize("stream", STREAMS)
def test_every_other_property_is_nullable(stream: str):
    """Apart from the top-level key properties, every property (at any depth) accepts null."""
    schema = resolved_schema(stream)
    keys = {f"$.{key}" for key in KEY_PROPERTIES[stream]}
    not_nullable = [
        path
        for path, _, prop in properties_of(schema)
        if path not in keys and "null" not in types_of(prop)
    ]
    assert not_nullable == []


@pytest.mark.parametrize("stream", sorted(REPLICATION_KEYS))
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
    systems: `external_id` and Facebook's `facebook_id` and `graph_id` are strings, and the
    any_channel `registered_integration_service_external_id` is too, as is an audit's
    `metadata.system.message_id` (the email's Message-ID header). An id that some payloads
    send as a string (an audit event's `macro_id`) is integer or string.
    """
    foreign = {
        "external_id",
        "facebook_id",
        "graph_id",
        "registered_integration_service_external_id",
        "message_id",
    }
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


# --- ticket activity: comments, audits, metric events ----------------------------------


def test_comments_and_audits_share_their_metadata_and_comment_keys():
    """Comments and audit events take the comment keys from one place, and comments and
    audits one metadata shape, so the same comment is typed the same on both streams."""
    comments = resolved_schema("ticket_comments")["properties"]
    audits = resolved_schema("ticket_audits")["properties"]
    events = audits["events"]["items"]["properties"]
    assert comments["metadata"] == audits["metadata"]
    for key in ("author_id", "html_body", "plain_body", "attachments", "audit_id", "data"):
        assert comments[key] == events[key], key


def test_an_audits_via_is_the_exports_text_and_an_events_via_either_shape():
    """ticket_audits come from the export, whose via is the channel's name: a text column
    (target-duckdb makes string|object a JSON column, where "Web form" does not load). Its
    events keep Zendesk's mix: a comment's via is the object, other events' the name."""
    schema = resolved_schema("ticket_audits")
    assert schema["properties"]["via"]["type"] == ["string", "null"]
    assert resolved_schema("ticket_events")["properties"]["via"]["type"] == ["string", "null"]
    validator = Draft202012Validator(schema)
    via_object = {"channel": "rule", "source": {"from": {"id": 7, "title": "t"}, "rel": "trigger"}}
    for via in ["Web form", via_object, None]:
        assert validator.is_valid({"id": 1, "via": "Mail", "events": [{"id": 2, "via": via}]})
    assert not validator.is_valid({"id": 1, "via": via_object})


def test_audit_event_values_may_be_any_recorded_shape():
    """value and previous_value accept string, number, boolean, list of strings and null."""
    validator = Draft202012Validator(resolved_schema("ticket_audits"))
    for value in ["open", "6130869168922", 123, 7.5, True, ["sample", "support"], None]:
        event = {"id": 2, "type": "Change", "value": value, "previous_value": value}
        assert validator.is_valid({"id": 1, "events": [event]}), value


def test_audit_events_keep_keys_the_schema_does_not_list():
    """Unknown event keys (the export puts the changed field as a key) are kept, typed.

    singer-sdk keeps undeclared keys only where `additionalProperties` allows them.
    """
    items = resolved_schema("ticket_audits")["properties"]["events"]["items"]
    extra = items["additionalProperties"]
    assert types_of(extra) == ["string", "number", "integer", "boolean", "array", "object", "null"]
    assert extra == items["properties"]["value"]
    validator = Draft202012Validator(resolved_schema("ticket_audits"))
    export_events = [
        {"id": 1, "via": "Web form", "status": "solved", "previous_value": "open"},
        {"id": 2, "custom_ticket_fields": {"4101000002619": "ORD-82416"}, "previous_value": None},
        {"id": 3, "custom_ticket_fields": {"360041597113": ["a", "b"]}, "event_type": "Create"},
        {"id": 4, "tags": ["a", "b"], "added_tags": ["b"], "removed_tags": []},
        {"id": 5, "event_type": "CommentPrivacyChange", "comment_id": 9, "public": False},
        {"id": 6, "field_name": "first_reply_time", "value": {"minutes": 1440}},
    ]
    for event in export_events:
        assert validator.is_valid({"id": 1, "events": [event]}), event


def test_comment_voice_data_is_typed_but_open():
    """A VoiceComment's data types its documented keys and keeps any other key."""
    data = resolved_schema("ticket_comments")["properties"]["data"]
    assert {"recording_url", "transcription_text", "call_duration", "from", "to"} <= set(
        data["properties"]
    )
    assert types_of(data["additionalProperties"])
    validator = Draft202012Validator(resolved_schema("ticket_comments"))
    comment = {
        "id": 1,
        "type": "VoiceComment",
        "data": {"from": "+14156973270", "call_duration": 60, "recording_duration": "7"},
    }
    assert validator.is_valid(comment)


def test_metric_event_sla_and_group_sla_share_one_shape():
    """apply_sla's sla and apply_group_sla's group_sla are the same fragment."""
    properties = resolved_schema("ticket_metric_events")["properties"]
    assert properties["sla"] == properties["group_sla"]
    assert set(properties["sla"]["properties"]) == {
        "target",
        "target_in_seconds",
        "business_hours",
        "policy",
    }


# --- ticket fields and forms -----------------------------------------------------------


def test_ticket_field_options_from_the_options_endpoint_validate():
    """custom_field_options items accept the full option shape of /ticket_fields/{id}/options."""
    options = [
        {
            "id": 10000,
            "name": "Apples",
            "position": 0,
            "raw_name": "Apples",
            "url": "http://{subdomain}.zendesk.com/api/v2/ticket_fields/1/options/10000.json",
            "value": "apple",
        },
    ]
    schema = resolved_schema("ticket_fields")
    field = {"id": 1, "type": "tagger", "custom_field_options": options}
    assert list(undeclared_keys(field, schema, "$")) == []
    assert Draft202012Validator(schema).is_valid(field)


def test_lookup_field_relationship_filter_validates():
    """A lookup field's relationship_filter (the docs' request example) is declared and valid."""
    field = {
        "id": 1,
        "type": "lookup",
        "title": "Success Manager",
        "relationship_target_type": "zen:user",
        "relationship_filter": {"all": [{"field": "role", "operator": "is", "value": "Agent"}]},
    }
    schema = resolved_schema("ticket_fields")
    assert list(undeclared_keys(field, schema, "$")) == []
    assert Draft202012Validator(schema).is_valid(field)


def test_form_condition_rows_come_from_the_form_conditions():
    """The condition streams type their columns as the form's conditions do.

    Each non-key column has the type of the form's condition key it is flattened from,
    and the end-user rows are the agent rows without the required_on_statuses columns.
    """
    conditions = resolved_schema("ticket_forms")["properties"]["agent_conditions"]["items"]
    child = conditions["properties"]["child_fields"]["items"]["properties"]
    agent = resolved_schema("ticket_form_agent_conditions")["properties"]
    end_user = resolved_schema("ticket_form_end_user_conditions")["properties"]
    assert agent["parent_field_type"] == conditions["properties"]["parent_field_type"]
    assert agent["is_required"] == child["is_required"]
    statuses = child["required_on_statuses"]["properties"]
    assert agent["required_on_statuses_type"] == statuses["type"]
    assert agent["required_on_statuses"] == statuses["statuses"]
    assert set(agent) - set(end_user) == {"required_on_statuses_type", "required_on_statuses"}
    assert all(end_user[name] == agent[name] for name in end_user)


def test_form_condition_values_are_text_so_the_key_has_one_type():
    """A condition's parent value is a tag or a checkbox state written as text, never null."""
    validator = Draft202012Validator(resolved_schema("ticket_form_agent_conditions"))
    row = {"ticket_form_id": 47, "parent_field_id": 5, "child_field_id": 44}
    for value in ["matching_value_1", "true"]:
        assert validator.is_valid({**row, "value": value}), value
    for value in [None, True]:
        assert not validator.is_valid({**row, "value": value}), value
