"""Replace: with emit_activate_version_messages, full-table streams version their rows.

A target that honours ACTIVATE_VERSION then replaces the table with each run's rows, so a
ticket field or form deleted in Zendesk disappears downstream too. Streams read incrementally
never send it (their runs carry only the changes), nor do streams whose rows come from an
incremental stream's responses (comment attachments). Off by default.
"""

from __future__ import annotations

from tests.support.tap import catalog_for, config_for

FULL_TABLE = ("ticket_fields", "ticket_forms", "ticket_form_agent_conditions")
INCREMENTAL = ("tickets", "ticket_comments", "ticket_comment_attachments")


def _sync(run_tap, emulator, **settings):
    config = config_for(emulator, **settings)
    run = run_tap(config, catalog=catalog_for(config, FULL_TABLE + INCREMENTAL))
    assert run.returncode == 0, run.stderr
    return run


def test_full_table_streams_send_activate_version_before_records_of_that_version(emulator, run_tap):
    run = _sync(run_tap, emulator, emit_activate_version_messages=True)

    activations = {
        m["stream"]: m["version"] for m in run.messages if m["type"] == "ACTIVATE_VERSION"
    }
    assert set(activations) == set(FULL_TABLE)
    for stream in FULL_TABLE:
        messages = [m for m in run.messages if m.get("stream") == stream]
        kinds = [m["type"] for m in messages]
        assert kinds.index("ACTIVATE_VERSION") < kinds.index("RECORD")
        records = [m for m in messages if m["type"] == "RECORD"]
        assert records
        assert {m["version"] for m in records} == {activations[stream]}
    for stream in INCREMENTAL:
        assert run.records(stream), stream
        versions = {m.get("version") for m in run.messages if m.get("stream") == stream}
        assert versions == {None}, f"{stream} is versioned: a replacing target would drop rows"


def test_no_activate_version_and_no_versions_by_default(emulator, run_tap):
    run = _sync(run_tap, emulator)

    assert not [m for m in run.messages if m["type"] == "ACTIVATE_VERSION"]
    assert {m.get("version") for m in run.messages if m["type"] == "RECORD"} == {None}
