"""Meltano: meltano.yml declares what the tap has, and `meltano run` extracts and resumes.

meltano.yml must follow tap.py: every setting (secrets sensitive), the capabilities, the
defaults. `meltano run tap-zendesk target-jsonl` runs offline in a copy of the project whose
plugins point at the already built executables, with the config in environment variables
as a deployment would set it; the second run resumes from the state Meltano stored, and
target-jsonl appends what it carries. The capabilities claimed beyond Singer's basics (stream
maps, flattening, structured logging) are exercised here.
"""

from __future__ import annotations

import json
import os
import subprocess
import typing as t

import pytest
import yaml

from tests.support.tap import TAP, catalog_for, config_for
from tests.support.targets import ROOT, TAP_BIN, TARGETS, installed, zendesk_values

PROJECT = yaml.safe_load((ROOT / "meltano.yml").read_text(encoding="utf-8"))
EXTRACTOR = next(p for p in PROJECT["plugins"]["extractors"] if p["name"] == "tap-zendesk")
SETTINGS = {setting["name"]: setting for setting in EXTRACTOR["settings"]}
# The Meltano kinds that pass each JSON Schema type of the tap's settings through unchanged.
# Not decimal: Meltano 4.4 makes a Decimal of one set from the environment and cannot write it.
KINDS = {
    "boolean": {"boolean"},
    "integer": {"integer"},
    "number": {"integer"},
    "array": {"array"},
    "object": {"object"},
    "string": {None, "email", "date_iso8601"},
}


@pytest.fixture(scope="module")
def about() -> dict[str, t.Any]:
    done = subprocess.run(
        [*TAP, "--about", "--format=json"], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_meltano_yml_declares_every_setting_of_the_tap(about):
    properties = about["settings"]["properties"]

    assert sorted(SETTINGS) == sorted(properties)
    for name, schema in properties.items():
        setting = SETTINGS[name]
        assert setting.get("sensitive", False) == schema.get("secret", False), name
        kinds = KINDS[next(k for k in schema["type"] if k != "null")]
        if "enum" in schema:
            kinds = {"options"}
            assert [o["value"] for o in setting["options"]] == schema["enum"], name
        assert setting.get("kind") in kinds, name
        assert setting.get("value") == schema.get("default"), f"{name}: default differs"


def test_meltano_yml_claims_exactly_the_taps_capabilities(about):
    assert sorted(EXTRACTOR["capabilities"]) == sorted(about["capabilities"])


def test_each_way_to_authenticate_is_a_settings_group():
    groups = [set(group) for group in EXTRACTOR["settings_group_validation"]]

    assert all(group <= set(SETTINGS) for group in groups)
    for address in ("url", "subdomain"):
        for credential in (
            {"client_id", "client_secret", "auth_method"},
            {"client_id", "oauth_token_store", "auth_method"},
            {"email", "api_token"},
            {"email", "password"},
            {"oauth_token"},
            {"refresh_token", "client_id"},
        ):
            assert any({address, *credential} <= group for group in groups), credential


# Offline `meltano run` ------------------------------------------------------------------------

EXECUTABLES = {
    "tap-zendesk": TAP_BIN,
    "target-jsonl": TARGETS / "target-jsonl" / "bin" / "target-jsonl",
}


class Meltano:
    """A copy of this project in a temporary folder, run by the Meltano of .venv-targets."""

    def __init__(self, root, emulator) -> None:
        self.root = root
        self.meltano = installed("meltano")
        installed("target-jsonl")
        project = json.loads(json.dumps(PROJECT))
        for plugin in (*project["plugins"]["extractors"], *project["plugins"]["loaders"]):
            if plugin["name"] in EXECUTABLES:
                # Without pip_url Meltano installs nothing and runs the executable as given.
                plugin.pop("pip_url")
                plugin["executable"] = str(EXECUTABLES[plugin["name"]])
        (root / "meltano.yml").write_text(yaml.safe_dump(project, sort_keys=False))
        config = config_for(emulator)
        self.secret = config["api_token"]
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")},
            **{f"TAP_ZENDESK_{key.upper()}": str(value) for key, value in config.items()},
            "TAP_ZENDESK__SELECT": json.dumps(["tickets.*", "users.*"]),
            "TARGET_JSONL_DESTINATION_PATH": str(root / "output"),
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        }

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [self.meltano, *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-5000:]
        assert self.secret not in done.stdout + done.stderr
        return done

    def output(self, stream: str) -> list[dict[str, t.Any]]:
        """The records target-jsonl has written so far, in order."""
        path = self.root / "output" / f"{stream}.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()]


def _assert_latest_values(emulator, stream: str, records: list[dict[str, t.Any]]) -> None:
    for record in records:
        truth = emulator.dataset.get(stream, record["id"])
        assert zendesk_values(record, truth) == truth


def test_meltano_run_extracts_then_resumes_from_the_state_it_stored(emulator, tmp_path):
    meltano = Meltano(tmp_path, emulator)

    first = meltano("run", "tap-zendesk", "target-jsonl")
    before = {stream: meltano.output(stream) for stream in ("tickets", "users")}
    for stream, records in before.items():
        assert sorted(r["id"] for r in records) == sorted(emulator.dataset.ids(stream))
        _assert_latest_values(emulator, stream, records)
    # Meltano parsed the tap's structured log lines (capability structured-logging).
    assert "metric_name=record_count" in first.stderr

    changes = emulator.mutate(update_tickets=3, create_tickets=2, update_users=2)
    meltano("run", "tap-zendesk", "target-jsonl")
    # target-jsonl appends: the second run added exactly the changed records, as they are now.
    for stream, records in before.items():
        added = meltano.output(stream)[len(records) :]
        assert sorted(r["id"] for r in added) == changes[stream]
        _assert_latest_values(emulator, stream, added)


# Capabilities ---------------------------------------------------------------------------------


def test_stream_maps_transform_records_and_schemas(emulator, run_tap):
    config = config_for(
        emulator,
        stream_maps={
            "tickets": {"subject": None, "shout": "subject.upper()"},
            "ticket_fields": {"__alias__": "fields"},
        },
    )
    run = run_tap(config, catalog=catalog_for(config, ["tickets", "ticket_fields"]))

    assert run.returncode == 0, run.stderr
    schemas = {m["stream"]: m["schema"] for m in run.messages if m["type"] == "SCHEMA"}
    assert "subject" not in schemas["tickets"]["properties"]
    assert "shout" in schemas["tickets"]["properties"]
    for record in run.records("tickets"):
        truth = emulator.dataset.get("tickets", record["id"])
        assert "subject" not in record
        assert record["shout"] == truth["subject"].upper()
    assert {r["id"] for r in run.records("fields")} == {
        f["id"] for f in emulator.dataset.ticket_fields()
    }
    assert not run.records("ticket_fields")


def test_flattening_turns_nested_objects_into_columns(emulator, run_tap):
    config = config_for(emulator, flattening_enabled=True, flattening_max_depth=1)
    run = run_tap(config, catalog=catalog_for(config, ["tickets"]))

    assert run.returncode == 0, run.stderr
    for record in run.records("tickets"):
        truth = emulator.dataset.get("tickets", record["id"])
        assert "via" not in record
        assert record["via__channel"] == truth["via"]["channel"]
