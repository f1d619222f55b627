"""Checking records against JSON Schemas as strictly as a loading target does."""

from __future__ import annotations

import datetime
import re

from jsonschema import Draft202012Validator, FormatChecker

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


def assert_valid_against_the_schemas_sent(run, streams) -> None:
    """Each record of `streams` valid against the SCHEMA the run sent, none dropped a key."""
    schemas = {m["stream"]: m["schema"] for m in run.messages if m["type"] == "SCHEMA"}
    for stream in streams:
        validator = Draft202012Validator(schemas[stream], format_checker=format_checker())
        records = run.records(stream)
        assert records, f"the emulator serves no {stream}"
        problems = [
            f"{e.json_path}: {e.message}" for r in records for e in validator.iter_errors(r)
        ]
        assert problems == [], stream
    assert "dropping properties not in the schema" not in run.stderr
