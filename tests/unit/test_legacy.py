"""legacy_schema's value conversions, as the incumbent tap-zendesk converts them.

The layouts compared with the incumbent's own, and whole runs with them, are
tests/integration/test_legacy_schema.py.
"""

from __future__ import annotations

import logging

from tap_zendesk.legacy import LegacyLayout


def test_values_are_converted_as_the_incumbent_converts_them(caplog):
    """Where the incumbent declares text, numbers and booleans become text the way
    singer-python writes them; objects and arrays become JSON text; a value that fits no
    declared type is null, with one warning naming where it was."""
    schema = {
        "type": ["null", "object"],
        "properties": {
            "macro_id": {"type": ["null", "string"]},
            "flag": {"type": ["null", "string"]},
            "note": {"type": ["null", "string"]},
            "count": {"type": ["null", "integer"]},
            "via": {
                "type": ["null", "object"],
                "properties": {"channel": {"type": ["null", "string"]}},
            },
            "missing": {"type": ["null", "string"]},
        },
    }
    logger = logging.getLogger("test_legacy")
    shape = LegacyLayout("").record_shaper(schema, "tickets", logger)
    record = {
        "macro_id": 123,
        "flag": True,
        "note": {"a": 1},
        "count": "42",
        "via": {"channel": "web", "source": {"rel": None}},
        "extra": 1,
    }

    with caplog.at_level(logging.WARNING, logger="test_legacy"):
        shaped = shape(record)
        unconvertible = [shape({"count": "many"}), shape({"count": "lots"})]

    assert shaped == {
        "macro_id": "123",
        "flag": "True",
        "note": '{"a": 1}',
        "count": 42,
        "via": {"channel": "web"},
        "missing": None,
    }
    assert [row["count"] for row in unconvertible] == [None, None]
    assert [r.getMessage() for r in caplog.records] == [
        "tickets: a string at $.count does not fit the legacy schema; emitted as null"
    ]
