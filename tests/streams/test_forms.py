"""Ticket fields, ticket forms and their conditions as flat rows a BI table can use."""

from __future__ import annotations

import pytest

from tap_zendesk.streams.forms import condition_value
from tests.support.tap import catalog_for, config_for

FORM_STREAMS = ("ticket_forms", "ticket_form_agent_conditions", "ticket_form_end_user_conditions")


def _key(row: dict) -> tuple:
    return (row["ticket_form_id"], row["parent_field_id"], row["value"], row["child_field_id"])


def _sync(run_tap, emulator, streams):
    config = config_for(emulator)
    return run_tap(config, catalog=catalog_for(config, streams))


def test_ticket_fields_include_system_and_custom_fields(emulator, run_tap):
    run = _sync(run_tap, emulator, ["ticket_fields"])

    assert run.returncode == 0, run.stderr
    expected = {f["id"]: f for f in emulator.dataset.ticket_fields()}
    assert sorted(run.ids("ticket_fields")) == sorted(expected)
    for record in run.records("ticket_fields"):
        assert record == expected[record["id"]]
    types = {r["type"] for r in run.records("ticket_fields")}
    assert {"subject", "status", "tagger", "multiselect", "checkbox"} <= types


def test_every_form_is_emitted_as_zendesk_returns_it(emulator, run_tap):
    run = _sync(run_tap, emulator, ["ticket_forms"])

    assert run.returncode == 0, run.stderr
    expected = {f["id"]: f for f in emulator.dataset.ticket_forms()}
    assert {r["id"]: r for r in run.records("ticket_forms")} == expected


@pytest.mark.parametrize(
    ("stream", "key"),
    [
        ("ticket_form_agent_conditions", "agent_conditions"),
        ("ticket_form_end_user_conditions", "end_user_conditions"),
    ],
)
def test_conditions_flatten_to_one_row_per_condition_and_child_field(
    emulator, run_tap, stream, key
):
    run = _sync(run_tap, emulator, [stream])

    assert run.returncode == 0, run.stderr
    rows = run.records(stream)
    forms = emulator.dataset.ticket_forms()
    expected_rows = sum(len(c["child_fields"]) for f in forms for c in f[key])
    assert len(rows) == expected_rows > 0
    by_key = {_key(r): r for r in rows}
    assert len(by_key) == len(rows), "the composite key is not unique"
    for form in forms:
        for condition in form[key]:
            for child in condition["child_fields"]:
                value = condition_value(condition["value"])
                row = by_key[(form["id"], condition["parent_field_id"], value, child["id"])]
                assert row["ticket_form_name"] == form["name"]
                assert row["is_required"] == child["is_required"]
                if key == "agent_conditions":
                    statuses = child["required_on_statuses"]
                    assert row["required_on_statuses_type"] == statuses["type"]
                    assert row["required_on_statuses"] == statuses.get("statuses")


@pytest.mark.parametrize("status", [403, 404])
def test_forms_unavailable_on_the_plan_skip_three_streams_and_the_sync_succeeds(
    emulator, run_tap, status
):
    if status == 403:
        emulator.configure(forbidden_paths=["/api/v2/ticket_forms"])
    else:
        emulator.configure(missing_paths=["/api/v2/ticket_forms"])

    run = _sync(run_tap, emulator, [*FORM_STREAMS, "ticket_fields"])

    assert run.returncode == 0, run.stderr
    for stream in FORM_STREAMS:
        assert run.records(stream) == []
        assert f"Skipping stream '{stream}'" in run.stderr
    assert run.records("ticket_fields")


def test_the_forms_and_their_two_condition_streams_read_the_forms_once(emulator, run_tap):
    emulator.reset_stats()

    run = _sync(run_tap, emulator, list(FORM_STREAMS))

    assert run.returncode == 0, run.stderr
    assert emulator.stats["requests_by_path"]["/api/v2/ticket_forms.json"] == 1
    for stream in FORM_STREAMS:
        assert run.records(stream), stream
