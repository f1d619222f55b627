"""`legacy_schema`: the streams, columns, types and keys of the incumbent Singer tap.

With `legacy_schema: true`, every stream that `tap-zendesk` 2.8.2 (singer-io, on PyPI) also
has is emitted with that tap's property names, JSON types and key properties, so a team can
switch taps without a downstream column changing.

The incumbent's schemas are read from its sdist, fetched with pip at test time (the tests that
need it are skipped, saying why, when the package index cannot be reached). Its `$ref`s are
resolved, and a SCHEMA message must then equal its schema in every keyword that schema file uses
(`type` lists in order, `format`, `properties`, `items`, `additionalProperties`) at every depth;
annotations such as `description` are ignored. Key properties come from its `streams.py`.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import json
import logging
import subprocess
import sys
import tarfile
import typing as t
from pathlib import Path

import pytest
import requests
from jsonschema import Draft202012Validator
from singer_sdk.singerlib.schema import resolve_schema_references

from tap_zendesk.legacy import LAYOUTS, LegacyLayout
from tap_zendesk.schemas import SCHEMAS
from tap_zendesk.tap import TapZendesk
from tests.support.schemas import format_checker
from tests.support.tap import catalog_for, config_for

INCUMBENT = "tap-zendesk==2.8.2"
PIP_TIMEOUT_SECONDS = 60
# Keywords that describe a value to a reader, not its shape to a target.
ANNOTATIONS = frozenset({"description", "title", "examples", "$comment"})


@dataclasses.dataclass
class Incumbent:
    """What tap-zendesk 2.8.2 publishes: a resolved schema and key properties per stream."""

    schemas: dict[str, dict[str, t.Any]]
    key_properties: dict[str, list[str]]


@pytest.fixture(scope="module")
def incumbent(tmp_path_factory: pytest.TempPathFactory) -> Incumbent:
    """The incumbent's sdist, downloaded once per test session and read without importing it."""
    where = tmp_path_factory.mktemp("incumbent")
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--no-binary",
        ":all:",
        "--disable-pip-version-check",
        "--timeout",
        "15",
        "--retries",
        "1",
        "--dest",
        str(where),
        INCUMBENT,
    ]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.skip(f"pip download {INCUMBENT}: no answer from the package index in 60 s")
    sdists = sorted(where.glob("tap_zendesk-*.tar.gz"))
    if done.returncode != 0 or not sdists:
        reason = (done.stderr.strip().splitlines() or ["no sdist"])[-1]
        pytest.skip(f"pip download {INCUMBENT} failed (package index unreachable?): {reason}")
    with tarfile.open(sdists[0]) as sdist:
        sdist.extractall(where, filter="data")
    package = next(where.glob("tap_zendesk-*/tap_zendesk"))
    return read_incumbent(package)


def read_incumbent(package: Path) -> Incumbent:
    """Schemas with their `shared/` fragments inlined; keys from the stream classes."""
    shared = {
        f"shared/{path.name}": json.loads(path.read_text(encoding="utf-8"))
        for path in (package / "schemas" / "shared").glob("*.json")
    }
    keys = key_properties_of(package / "streams.py")
    schemas = {
        name: resolve_schema_references(
            json.loads((package / "schemas" / f"{name}.json").read_text(encoding="utf-8")),
            refs=copy.deepcopy(shared),
        )
        for name in keys
    }
    return Incumbent(schemas, keys)


def key_properties_of(streams_py: Path) -> dict[str, list[str]]:
    """Each stream of the `STREAMS` registry and its `key_properties`, inherited or its own."""
    module = ast.parse(streams_py.read_text(encoding="utf-8"))
    constants = {
        node.targets[0].id: node.value
        for node in module.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }
    classes = {node.name: node for node in module.body if isinstance(node, ast.ClassDef)}

    def attribute(cls: str, name: str) -> t.Any:
        for node in classes[cls].body:
            if isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == name for target in node.targets
            ):
                value = node.value
                if isinstance(value, ast.Name):
                    value = constants[value.id]
                return ast.literal_eval(value)
        bases = [base.id for base in classes[cls].bases if isinstance(base, ast.Name)]
        return next(attribute(base, name) for base in bases if base in classes)

    registry = constants["STREAMS"]
    assert isinstance(registry, ast.Dict)
    return {
        ast.literal_eval(key): attribute(value.id, "key_properties")
        for key, value in zip(registry.keys, registry.values, strict=True)
        if isinstance(key, ast.Constant) and isinstance(value, ast.Name)
    }


def layout_of(schema: t.Any) -> t.Any:
    """The schema without annotations: what a target builds its columns from."""
    if isinstance(schema, dict):
        return {key: layout_of(value) for key, value in schema.items() if key not in ANNOTATIONS}
    return schema


def differences(ours: t.Any, theirs: t.Any, path: str = "$") -> list[str]:
    """Where two annotation-free schemas differ, one line per difference."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        found = []
        for key in sorted(ours.keys() | theirs.keys()):
            if key not in theirs:
                found.append(f"{path}: the incumbent has no {key!r}")
            elif key not in ours:
                found.append(f"{path}: {key!r} is missing, the incumbent has {theirs[key]!r}")
            else:
                found += differences(ours[key], theirs[key], f"{path}.{key}")
        return found
    return [] if ours == theirs else [f"{path}: {ours!r}, the incumbent has {theirs!r}"]


def our_stream_names(config: dict[str, t.Any]) -> set[str]:
    return set(TapZendesk(config=config, parse_env_config=False).streams)


def schema_messages(run: t.Any) -> dict[str, dict[str, t.Any]]:
    return {m["stream"]: m for m in run.messages if m["type"] == "SCHEMA"}


@pytest.fixture
def emulator(make_emulator: t.Callable[..., t.Any]) -> t.Any:
    """A small account: every stream has records, and validating them all stays quick."""
    return make_emulator(tickets=60, users=20, organizations=10)


# --- the guarantees --------------------------------------------------------------------


def test_every_stream_both_taps_have_has_a_legacy_layout(incumbent, emulator):
    """A stream the incumbent also has needs a legacy layout (legacy/layouts.py)."""
    common = our_stream_names(config_for(emulator)) & set(incumbent.schemas)

    assert {"tickets", "users", "organizations", "ticket_comments"} <= common
    assert sorted(common - set(LAYOUTS)) == [], "add them to legacy/layouts.py"
    assert set(LAYOUTS) <= set(incumbent.schemas), "a layout for a stream the incumbent lacks"


def test_schema_messages_are_the_incumbents(incumbent, emulator, run_tap):
    """A sync with legacy_schema emits, for every common stream, the incumbent's schema
    (names, type lists, formats, nested objects and arrays) and key properties."""
    config = config_for(emulator, legacy_schema=True)
    common = sorted(our_stream_names(config) & set(incumbent.schemas))

    run = run_tap(config)

    assert run.returncode == 0, run.stderr
    emitted = schema_messages(run)
    problems = {}
    for stream in common:
        if stream not in emitted:
            problems[stream] = ["no SCHEMA message"]
            continue
        found = differences(
            layout_of(emitted[stream]["schema"]), layout_of(incumbent.schemas[stream])
        )
        if emitted[stream]["key_properties"] != incumbent.key_properties[stream]:
            found.append(
                f"key properties {emitted[stream]['key_properties']}, "
                f"the incumbent has {incumbent.key_properties[stream]}"
            )
        if found:
            problems[stream] = found
    assert problems == {}


@pytest.mark.parametrize("comments_source", ["ticket_events", "per_ticket"])
def test_records_fit_the_legacy_schema(emulator, run_tap, comments_source):
    """Every record validates against the SCHEMA sent before it and has exactly its columns:
    keys the incumbent lacks are dropped quietly, columns we lack are null. Comments read
    either way fit the same schema."""
    run = run_tap(config_for(emulator, legacy_schema=True, comments_source=comments_source))

    assert run.returncode == 0, run.stderr
    emitted = schema_messages(run)
    counts = {stream: len(run.records(stream)) for stream in LAYOUTS if stream in emitted}
    assert all(counts.values()), counts
    for stream in counts:
        schema = emitted[stream]["schema"]
        validator = Draft202012Validator(schema, format_checker=format_checker())
        columns = set(schema["properties"])
        for record in run.records(stream):
            assert set(record) == columns, stream
            errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(record)]
            assert errors == [], f"{stream} id={record.get('id')}"
    assert "not in the schema" not in run.stderr
    assert "does not fit the legacy schema" not in run.stderr


def test_audit_via_is_the_object_the_incumbent_reads_per_ticket(emulator, run_tap):
    """The ticket events export gives an audit's via as the channel's name; the incumbent
    reads `/tickets/{id}/audits.json`, where it is an object. An audit with a comment gets
    its comment's via object: the one that endpoint serves, cut to the legacy columns."""
    config = config_for(emulator, legacy_schema=True)
    run = run_tap(config, catalog=catalog_for(config, ["ticket_audits"]))
    assert run.returncode == 0, run.stderr
    audits = run.records("ticket_audits")
    assert all(isinstance(audit["via"], dict) for audit in audits)

    # What the incumbent's transformer leaves of an audit: the emitted schema's columns.
    schema = schema_messages(run)["ticket_audits"]["schema"]
    as_incumbent = LegacyLayout("").record_shaper(schema, "ticket_audits", logging.getLogger())
    commented = [a for a in audits if any(e.get("type") == "Comment" for e in a["events"])]
    creds = emulator.credentials
    served = {}
    for ticket_id in {audit["ticket_id"] for audit in commented}:
        response = requests.get(
            f"{emulator.url}/api/v2/tickets/{ticket_id}/audits.json",
            auth=(f"{creds['email']}/token", creds["api_token"]),
            timeout=10,
        )
        if response.status_code == 404:  # deleted: the incumbent reads no audits for it
            continue
        audits_served = response.json()["audits"]
        served.update((audit["id"], as_incumbent(audit)["via"]) for audit in audits_served)
    ours = {audit["id"]: audit["via"] for audit in commented if audit["id"] in served}
    assert len({via["channel"] for via in ours.values()}) > 1
    assert ours == {audit_id: served[audit_id] for audit_id in ours}


def test_without_legacy_schema_our_own_schemas_and_records_are_emitted(emulator, run_tap):
    """legacy_schema defaults to false, and then nothing of the legacy layout leaks: the
    schemas are ours (records and keys that are never null, our own columns) and audits
    keep the export's via as it came."""
    run = run_tap(config_for(emulator))

    assert run.returncode == 0, run.stderr
    emitted = schema_messages(run)
    for stream in LAYOUTS:
        if stream not in emitted:
            continue
        schema = emitted[stream]["schema"]
        assert schema["type"] == "object", stream
        for key in emitted[stream]["key_properties"]:
            assert "null" not in schema["properties"][key]["type"], (stream, key)
        legacy = LAYOUTS[stream].schema(SCHEMAS.fetch_schema(stream))
        assert layout_of(schema) != layout_of(legacy), stream
    assert {"tickets", "ticket_audits", "ticket_comments", "users"} <= set(emitted)
    assert any(isinstance(audit["via"], str) for audit in run.records("ticket_audits"))
