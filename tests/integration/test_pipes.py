"""The tap as Singer users run it: shell pipes into a real target, --discover, --catalog, --test.

`tap-zendesk --config config.json --state state.json | target-csv --config target.json`
through a real shell pipe into meltanolabs-target-csv: the rows are the emulator's tickets,
and the next run, from the state the target printed, carries only what changed.
"""

from __future__ import annotations

import csv
import json
import subprocess

import pytest
from singer_sdk.singerlib import Catalog

from tests.support.tap import TAP, catalog_for, config_for, write_json
from tests.support.targets import installed, pipe

COLUMNS = ("id", "status", "subject", "generated_timestamp")


def _rows(path) -> list[tuple[str, ...]]:
    with path.open(newline="", encoding="utf-8") as file:
        return [tuple(row[column] for column in COLUMNS) for row in csv.DictReader(file)]


def _truth(tickets) -> list[tuple[str, ...]]:
    return [tuple(str(ticket[column]) for column in COLUMNS) for ticket in tickets]


def test_tap_piped_into_target_csv_writes_every_ticket_then_resumes_from_its_state(
    emulator, tmp_path
):
    target = installed("target-csv")
    target_config = {"output_path": str(tmp_path / "out")}
    config = write_json(tmp_path / "config.json", config_for(emulator))
    catalog = write_json(tmp_path / "catalog.json", catalog_for(config_for(emulator), ["tickets"]))
    state = write_json(tmp_path / "state.json", {})
    args = ["--config", config, "--catalog", catalog, "--state", state]

    states = pipe(args, target, target_config, tmp_path)
    assert sorted(_rows(tmp_path / "out" / "tickets.csv")) == sorted(
        _truth(emulator.dataset.visible("tickets"))
    )

    changes = emulator.mutate(update_tickets=4, create_tickets=3)
    write_json(state, states[-1])
    pipe(args, target, target_config, tmp_path, name="second")
    changed = {*changes["update_tickets"], *changes["create_tickets"]}
    latest = [row for row in _truth(emulator.dataset.visible("tickets")) if int(row[0]) in changed]
    # target-csv rewrites its file each run: now it holds just the run's changed tickets.
    assert sorted(_rows(tmp_path / "out" / "tickets.csv")) == sorted(latest)


def _run(*args, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TAP, *map(str, args)], capture_output=True, text=True, timeout=timeout, check=False
    )


def test_discover_writes_a_catalog_that_catalog_runs_with_its_selection(emulator, tmp_path):
    config = write_json(tmp_path / "config.json", config_for(emulator))
    discovered = _run("--config", config, "--discover")
    assert discovered.returncode == 0, discovered.stderr

    catalog = json.loads(discovered.stdout)
    assert set(Catalog.from_dict(catalog)) == {e["tap_stream_id"] for e in catalog["streams"]}
    for entry in catalog["streams"]:
        top = next(m["metadata"] for m in entry["metadata"] if m["breadcrumb"] == [])
        assert top["table-key-properties"] == entry["key_properties"]
        top["selected"] = entry["tap_stream_id"] in {"users", "ticket_fields"}
        if entry["tap_stream_id"] == "users":
            # Deselect one property: it must be left out of the users' records.
            for item in entry["metadata"]:
                if item["breadcrumb"] == ["properties", "phone"]:
                    item["metadata"]["selected"] = False
    run = _run("--config", config, "--catalog", write_json(tmp_path / "catalog.json", catalog))

    assert run.returncode == 0, run.stderr
    messages = [json.loads(line) for line in run.stdout.splitlines()]
    records = [m for m in messages if m["type"] == "RECORD"]
    assert {m["stream"] for m in records} == {"users", "ticket_fields"}
    users = [m["record"] for m in records if m["stream"] == "users"]
    assert {u["id"] for u in users} == set(emulator.dataset.ids("users"))
    assert not any("phone" in user for user in users)


def test_connection_test_reads_one_record_per_stream_and_succeeds(emulator, tmp_path):
    run = _run("--config", write_json(tmp_path / "config.json", config_for(emulator)), "--test")

    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("mode", ["--test", "--discover"])
def test_a_bad_token_fails_with_one_line_in_test_and_discover_modes(emulator, tmp_path, mode):
    config = write_json(tmp_path / "config.json", config_for(emulator, api_token="not-the-token"))
    run = _run("--config", config, mode)

    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    errors = [line for line in run.stderr.splitlines() if "| ERROR" in line]
    assert len(errors) == 1, run.stderr
    assert "authentication failed for" in errors[0]
    assert run.stdout == ""
