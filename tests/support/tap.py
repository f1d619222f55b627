"""Running the real tap process, and what every run of it must show.

Plain helpers for the tests of every tier; the fixtures that use them are in tests/conftest.py.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import json
import re
import sys
import typing as t
from pathlib import Path

import jsonschema

from tap_zendesk.tap import TapZendesk
from tests.emulator import Emulator

TAP = [sys.executable, "-m", "tap_zendesk"]
STREAMS = ("tickets", "users", "organizations")
# Emulators of the running test: every token, code and verifier they issued or received is
# checked against each tap run's output, as the config's own secrets are.
LIVE_EMULATORS: list[Emulator] = []


@dataclasses.dataclass
class TapRun:
    """What one tap process printed."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def messages(self) -> list[dict[str, t.Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    def records(self, stream: str) -> list[dict[str, t.Any]]:
        return [
            m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream
        ]

    def ids(self, stream: str) -> list[int]:
        return [record["id"] for record in self.records(stream)]

    @property
    def states(self) -> list[dict[str, t.Any]]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def final_state(self) -> dict[str, t.Any]:
        return self.states[-1]

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if re.search(r"\|\s*ERROR\s*\|", line)]


def config_for(emulator: Emulator, **overrides: t.Any) -> dict[str, t.Any]:
    """A working config for `emulator`; overrides replace or (with None) remove keys."""
    config = {
        "url": emulator.url,
        "email": emulator.credentials["email"],
        "api_token": emulator.credentials["api_token"],
        "start_date": "2020-01-01T00:00:00Z",
        "max_retries": 3,
        # The emulator enforces no limits unless a test sets them; pacing would only slow tests.
        "rate_limit_per_minute": 1_000_000,
        "export_rate_limit_per_minute": 1_000_000,
        # Faults end after max_retries unless a test is about waiting out an outage.
        "outage_limit_seconds": 1,
    }
    config.update(overrides)
    return {key: value for key, value in config.items() if value is not None}


def catalog_for(config: dict[str, t.Any], streams: t.Iterable[str]) -> dict[str, t.Any]:
    """The tap's discovered catalog with only `streams` selected."""
    wanted = set(streams)
    catalog = TapZendesk(config=config, parse_env_config=False).catalog_dict
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] in wanted
    return catalog


def assert_no_secret_in(run: TapRun, secrets: t.Iterable[str] = ()) -> None:
    """`run` printed none of `secrets` nor any secret a live emulator issued or received."""
    issued = [s for emulator in LIVE_EMULATORS for s in emulator.oauth.secrets_seen()]
    for secret in [*secrets, *issued]:
        assert secret not in run.stdout, "a secret reached stdout"
        assert secret not in run.stderr, "a secret reached stderr"


def assert_records_match_schemas(stdout: str) -> None:
    """Each RECORD on `stdout` is valid against the last SCHEMA of its stream before it."""
    validators: dict[str, jsonschema.protocols.Validator] = {}
    failures: dict[str, list[str]] = {}
    for line in stdout.splitlines():
        if not line.startswith('{"type":"RECORD"') and not line.startswith('{"type":"SCHEMA"'):
            continue  # only these two matter; parsing the rest costs time on big runs
        message = json.loads(line)
        stream = message["stream"]
        if message["type"] == "SCHEMA":
            validators[stream] = _validator(json.dumps(message["schema"], sort_keys=True))
            continue
        assert stream in validators, f"a RECORD of {stream} came before its SCHEMA"
        error = jsonschema.exceptions.best_match(validators[stream].iter_errors(message["record"]))
        if error is not None:
            path = "/".join(str(part) for part in error.absolute_path)
            failures.setdefault(stream, []).append(f"{path}: {error.message[:300]}")
    assert not failures, "records that fail their stream's SCHEMA: " + "; ".join(
        f"{stream}: {len(errors)} records, first at {errors[0]}"
        for stream, errors in failures.items()
    )


@functools.lru_cache(maxsize=256)
def _validator(schema_json: str) -> jsonschema.protocols.Validator:
    schema = json.loads(schema_json)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def write_json(path: Path, content: dict[str, t.Any] | str) -> Path:
    """`content` (JSON, or text as it is) written to `path`."""
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def secrets_in(config: dict[str, t.Any]) -> list[str]:
    """The config's credentials, raw and in their Basic-auth base64 forms."""
    email = config.get("email", "")
    forms = []
    if config.get("api_token"):
        forms += [config["api_token"], f"{email}/token:{config['api_token']}"]
    if config.get("password"):
        forms += [config["password"], f"{email}:{config['password']}"]
    # The OAuth secrets; client_id and oauth_scope are not secret, the store's path neither.
    forms += [
        config[key] for key in ("oauth_token", "refresh_token", "client_secret") if config.get(key)
    ]
    if config.get("client_id") and config.get("client_secret"):
        # Clients that send the pair as HTTP Basic (RFC 6749 §2.3.1) would leak this form.
        forms.append(f"{config['client_id']}:{config['client_secret']}")
    encoded = [base64.b64encode(form.encode()).decode() for form in forms if ":" in form]
    return [form for form in forms + encoded if len(form) >= 4]


def secrets_of(emulator: Emulator) -> list[str]:
    """Every form in which a credential could leak: raw, and as Basic-auth base64."""
    creds = emulator.credentials
    email = creds["email"]
    basics = [f"{email}/token:{creds['api_token']}", f"{email}:{creds['password']}"]
    encoded = [base64.b64encode(value.encode()).decode() for value in basics]
    return [creds["api_token"], creds["password"], creds["oauth_token"], *encoded]


def assert_no_secrets(run: TapRun, emulator: Emulator) -> None:
    for secret in secrets_of(emulator):
        assert secret not in run.stdout
        assert secret not in run.stderr


def as_served(record: dict[str, t.Any]) -> dict[str, t.Any]:
    """A record without the typed custom-field columns the tap adds: what Zendesk served."""
    return {key: value for key, value in record.items() if not key.startswith("cf_")}
