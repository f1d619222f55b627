"""Every documented pipeline is a tested pipeline: the README's Meltano commands, as written.

One copy of the project per module, holding what a clone holds, gets a real `meltano install`
from PyPI at meltano.yml's pins (a Makefile venv would hide a wrong pin: target-duckdb under a
newer DuckDB dropped the first record of each batch while the pipe tests stayed green). Each
loader then runs `meltano run tap-zendesk <loader>` twice, with tickets updated, created and
deleted in between, and its destination is compared with what the tap emits.
"""

from __future__ import annotations

import re
import typing as t

import pytest

from tests.support.pipelines import (
    DATABASE,
    EMULATOR_START,
    LOADERS,
    POSTGRES_HOST,
    START_DATE,
    TOKEN,
    UNPACED,
    Postgres,
    Project,
    assert_merged,
    command_kind,
    copy_project,
    emitted_counts,
    extract,
    key_of,
    normal,
    read_csv,
    read_duckdb,
    read_jsonl,
    readme_commands,
    tap_config,
)
from tests.support.targets import ROOT

CHANGES = {"update_tickets": 6, "create_tickets": 4, "delete_tickets": 2, "update_users": 2}


def _makefile_pins() -> dict[str, str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return dict(re.findall(r"^PIN_([\w-]+) := (.+)$", text, flags=re.MULTILINE))


def test_the_makefile_pins_each_loader_as_meltano_yml_does():
    pins = _makefile_pins()
    shared = [name for name in LOADERS if name in pins]

    assert shared, "the Makefile pins none of meltano.yml's loaders"
    for name in shared:
        assert pins[name] == LOADERS[name]["pip_url"], name
    # Every requirement is exact: `meltano install` a year from now installs the same.
    for loader in LOADERS.values():
        for requirement in loader["pip_url"].split():
            assert re.fullmatch(r"[\w.-]+==[\w.]+", requirement), requirement


def test_every_meltano_command_of_the_readme_is_run_by_a_test():
    lines = readme_commands()

    assert lines
    assert [line for line in lines if command_kind(line) is None] == []
    ran = {command_kind(line) for line in lines}
    # Each loader of meltano.yml has its documented command.
    assert {f"loader:{name}" for name in LOADERS} <= ran


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    project = Project(copy_project(tmp_path_factory.mktemp("clone")))
    installs = [line for line in readme_commands() if command_kind(line) == "install"]
    assert installs
    for line in installs:
        project(line, timeout=900)
    return project


@pytest.fixture(scope="module")
def postgres() -> t.Iterator[Postgres]:
    server = Postgres().start()
    yield server
    server.stop()


def _setup(project: Project, emulator, tmp_path) -> None:
    """The README's setup commands for the emulator's account, on a fresh system database."""
    project.env.update(UNPACED)
    # A fresh state per test: one project copy serves every loader.
    project.env["MELTANO_DATABASE_URI"] = f"sqlite:///{tmp_path / 'meltano.db'}"
    project.account("acme", emulator)
    project.clear_output()
    for line in readme_commands():
        if command_kind(line) == "setup":
            project(
                line, **{TOKEN: emulator.credentials["client_secret"], START_DATE: EMULATOR_START}
            )


def _run_twice(project: Project, loader: str, emulator, tmp_path, read, **values: str):
    """Run the loader's README lines twice, with changes between; yield what each run left."""
    # The setup block and the pipelines list both show a loader's run: the same command.
    lines = [line.split("#", 1)[0].strip() for line in readme_commands()]
    lines = list(dict.fromkeys(line for line in lines if command_kind(line) == f"loader:{loader}"))
    configure = [line for line in lines if " run " not in f" {line} "]
    run = [line for line in lines if " run " in f" {line} "]
    assert len(run) == 1, lines
    for line in configure:
        project(line, **values)
    tap = project.venv_bin("extractors", "tap-zendesk", "tap-zendesk")

    first = emitted_counts(project(run[0]).stderr)
    truth = extract(tap, tap_config(emulator), tmp_path)
    yield first, truth, read()

    changes = emulator.mutate(**CHANGES)
    second = emitted_counts(project(run[0]).stderr)
    yield second, extract(tap, tap_config(emulator), tmp_path), read(), changes


def _changed_tickets(changes: dict[str, t.Any]) -> set[int]:
    return {*changes["update_tickets"], *changes["create_tickets"], *changes["delete_tickets"]}


def _check_first_run(emitted: dict[str, int], truth) -> None:
    # Meltano's log of the tap's counts agrees with a run of the tap alone: both read it all.
    assert emitted == {s: n for s, n in truth.emitted.items() if n}


def test_target_duckdb_merges_each_run_into_one_row_per_key(project, make_emulator, tmp_path):
    emulator = make_emulator()
    _setup(project, emulator, tmp_path)
    python = project.venv_bin("loaders", "target-duckdb", "python")
    database = project.root / "output" / "warehouse.duckdb"
    runs = _run_twice(
        project,
        "target-duckdb",
        emulator,
        tmp_path,
        lambda: read_duckdb(python, database, "zendesk"),
    )

    emitted, truth, tables = next(runs)
    _check_first_run(emitted, truth)
    first = assert_merged(tables, truth, where="first run")
    emitted, truth, tables, changes = next(runs)
    assert emitted["tickets"] == len(_changed_tickets(changes))
    counts = assert_merged(tables, truth, where="second run")
    print(f"target-duckdb: {sum(first.values())} rows, then {sum(counts.values())} rows "
          f"({counts['tickets']} tickets) in {len(counts)} tables")  # fmt: skip


def test_target_postgres_merges_with_jsonb_and_typed_columns(
    project, postgres, make_emulator, tmp_path
):
    emulator = make_emulator()
    _setup(project, emulator, tmp_path)
    postgres.recreate(DATABASE)
    values = {POSTGRES_HOST: "127.0.0.1", "5432": str(postgres.port), TOKEN: "unused"}
    runs = _run_twice(
        project,
        "target-postgres",
        emulator,
        tmp_path,
        lambda: postgres.tables(DATABASE, "zendesk"),
        **values,
    )

    emitted, truth, tables = next(runs)
    _check_first_run(emitted, truth)
    first = assert_merged(tables, truth, where="first run")
    emitted, truth, tables, changes = next(runs)
    assert emitted["tickets"] == len(_changed_tickets(changes))
    counts = assert_merged(tables, truth, where="second run")
    by_id = {row["id"]: row for row in tables["tickets"]}
    assert {by_id[i]["status"] for i in changes["delete_tickets"]} == {"deleted"}

    types = postgres.column_types(DATABASE, "zendesk", "tickets")
    schema = truth.schemas["tickets"]["properties"]
    objects = [n for n, v in schema.items() if _postgres_type(v) == "jsonb"]
    assert "via" in objects
    for column in objects:
        assert types[column] == "jsonb", column
    typed = [name for name in schema if name.startswith("cf_")]
    assert typed, "the tickets have no typed custom-field columns"
    for name in typed:
        assert types[name] == _postgres_type(schema[name]), name
    # The typed values themselves, of every ticket, as the tap emitted them.
    for key, record in truth.latest["tickets"].items():
        row = by_id[key[0]]
        for name in typed:
            assert _same(row[name], record.get(name)), (key, name)
    print(f"target-postgres: {sum(first.values())} rows, then {sum(counts.values())} rows "
          f"({counts['tickets']} tickets) in {len(counts)} tables; typed: "
          f"{sorted({types[n] for n in typed})}")  # fmt: skip


def _postgres_type(schema: dict[str, t.Any]) -> str:
    kinds = set(schema["type"]) - {"null"} if isinstance(schema["type"], list) else {schema["type"]}
    if len(kinds) != 1:
        return "mixed"
    (kind,) = kinds
    if kind == "string":
        return "date" if schema.get("format") == "date" else "text"
    return {"integer": "bigint", "number": "numeric", "boolean": "boolean", "array": "ARRAY",
            "object": "jsonb"}[kind]  # fmt: skip


def _same(loaded: t.Any, emitted: t.Any) -> bool:
    if isinstance(emitted, list | float):
        return loaded == emitted
    return normal(loaded) == normal(emitted)


def test_target_jsonl_appends_what_each_run_emitted(project, make_emulator, tmp_path):
    emulator = make_emulator()
    _setup(project, emulator, tmp_path)
    runs = _run_twice(
        project, "target-jsonl", emulator, tmp_path, lambda: read_jsonl(project.root / "output")
    )

    first, truth, files = next(runs)
    _check_first_run(first, truth)
    assert {s: len(rows) for s, rows in files.items()} == first
    second, truth, files, changes = next(runs)
    assert second["tickets"] == len(_changed_tickets(changes))
    # Appended: each file holds both runs' records, and its last line per key is the latest.
    assert {s: len(rows) for s, rows in files.items()} == {
        s: first.get(s, 0) + second.get(s, 0) for s in {*first, *second}
    }
    added = files["tickets"][first["tickets"] :]
    assert sorted(r["id"] for r in added) == sorted(_changed_tickets(changes))
    last = {
        stream: list({key_of(row, truth.keys[stream]): row for row in rows}.values())
        for stream, rows in files.items()
    }
    counts = assert_merged(last, truth, where="target-jsonl, last line per key")
    print(f"target-jsonl: {sum(first.values())} lines, then {sum(second.values())} more; "
          f"{sum(counts.values())} keys")  # fmt: skip


def test_target_csv_replaces_each_file_with_the_last_run(project, make_emulator, tmp_path):
    emulator = make_emulator()
    _setup(project, emulator, tmp_path)
    runs = _run_twice(
        project, "target-csv", emulator, tmp_path, lambda: read_csv(project.root / "output")
    )

    first, truth, files = next(runs)
    _check_first_run(first, truth)
    counts = assert_merged(files, truth, where="target-csv, first run")
    second, truth, files, changes = next(runs)
    # Replaced: a stream the second run carried holds just that run's records, each the latest.
    carried = {stream: files[stream] for stream in second}
    assert {s: len(rows) for s, rows in carried.items()} == second
    assert sorted(int(r["id"]) for r in files["tickets"]) == sorted(_changed_tickets(changes))
    for stream, rows in carried.items():
        keys = truth.keys[stream]
        for row in rows:
            record = truth.latest[stream][key_of(row, keys)]
            assert all(normal(row[k]) == normal(record[k]) for k in keys)
    print(f"target-csv: {sum(counts.values())} rows, then {sum(second.values())} rows "
          f"({second['tickets']} tickets)")  # fmt: skip
