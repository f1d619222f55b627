"""Many accounts: the README's per-account extractors, run side by side into one warehouse.

Two emulators with different seeds stand for two Zendesk accounts. They number their tickets
and users the same way, so the same ids hold different records: if the two accounts' rows or
states mixed anywhere, a table or a bookmark would hold the other account's values. The
README's commands run as written in a copy of the project after a real `meltano install`,
both `meltano run`s at once against one project (one SQLite system database) and one
PostgreSQL warehouse, twice, with each account changed differently in between.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import time
import typing as t

import pytest

from tests.support.pipelines import (
    DATABASE,
    EMULATOR_START,
    TOKEN,
    UNPACED,
    Postgres,
    Project,
    assert_merged,
    command_kind,
    copy_project,
    emitted_counts,
    extract,
    readme_commands,
    tap_config,
    wait_all,
)
from tests.support.tap import STREAMS, catalog_for

ACCOUNTS = ("acme", "globex")
# Different seeds: the same ticket ids with other subjects, requesters and timestamps.
SEEDS = {"acme": 7, "globex": 8}
SIZES = {"tickets": 60, "users": 30, "organizations": 15}
# Each account changes differently, so a run resumed from the other one's state would emit
# the wrong number of records.
CHANGES = {
    "acme": {"update_tickets": 3, "create_tickets": 2, "update_users": 1},
    "globex": {"update_tickets": 5, "delete_tickets": 2, "update_users": 3},
}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    project = Project(copy_project(tmp_path_factory.mktemp("clone")))
    for line in readme_commands():
        if command_kind(line) == "install":
            project(line, timeout=900)
    return project


@pytest.fixture(scope="module")
def postgres() -> t.Iterator[Postgres]:
    server = Postgres().start()
    yield server
    server.stop()


def _account_of(line: str) -> str | None:
    return next((name for name in ACCOUNTS if f"tap-zendesk--{name}" in line), None)


def _started(stderr: str) -> tuple[dt.datetime, dt.datetime]:
    """When a `meltano run` logged its first and its last line."""
    stamps = re.findall(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z)", stderr, flags=re.MULTILINE)
    assert stamps, stderr[-2000:]
    return dt.datetime.fromisoformat(stamps[0]), dt.datetime.fromisoformat(stamps[-1])


def _run_accounts(
    project: Project,
    lines: list[str],
    tokens: dict[str, str],
    while_running: t.Callable[[], None] = lambda: None,
) -> dict[str, t.Any]:
    """The README's account lines as a shell runs them: `&` starts one, `wait` waits for all."""
    started: dict[str, t.Any] = {}
    done: dict[str, str] = {}
    outputs: dict[str, str] = {}
    for command in lines:
        account = _account_of(command)
        values = {TOKEN: tokens[account]} if account else {}
        if command.endswith("&"):
            started[account] = project.start(command.removesuffix("&").strip(), **values)
        elif command == "wait":
            while_running()
            errors = wait_all(list(started.values()))
            done.update(zip(started, errors, strict=True))
            started.clear()
        else:
            outputs[command] = project(command, **values).stdout
    assert not started, "a README line started a run nobody waits for"
    return {"stderr": done, "outputs": outputs}


def test_two_accounts_side_by_side_keep_their_own_rows_and_state(
    project, postgres, make_emulator, tmp_path
):
    emulators = {name: make_emulator(seed=SEEDS[name], **SIZES) for name in ACCOUNTS}
    project.env.update(UNPACED)
    for name, emulator in emulators.items():
        project.account(name, emulator)
        # meltano.yml gives each account its Zendesk address (`url: acme`); the test's
        # accounts live elsewhere, so the address is the one value set from the environment.
        project.env[f"TAP_ZENDESK__{name.upper()}_URL"] = emulator.url
    postgres.recreate(DATABASE)
    tokens = {name: emulator.credentials["api_token"] for name, emulator in emulators.items()}

    # tests/integration/test_pipelines.py runs the single-account setup and the target-postgres
    # lines; here what they set comes from the environment, as a deployment sets it, and reaches
    # the accounts by inheritance all the same.
    project.env["TAP_ZENDESK_START_DATE"] = EMULATOR_START
    # The streams whose ids each account numbers from the same start; every stream's load
    # into target-postgres is tests/integration/test_pipelines.py's. A selection made on tap-zendesk
    # reaches every account, like its settings.
    project.env["TAP_ZENDESK__SELECT"] = json.dumps([f"{s}.*" for s in STREAMS])
    project.env["TARGET_POSTGRES_HOST"] = "127.0.0.1"
    project.env["TARGET_POSTGRES_PORT"] = str(postgres.port)
    # The throwaway cluster trusts loopback connections; the loader wants a password set.
    project.env["TARGET_POSTGRES_PASSWORD"] = "unused"
    lines = [line.split("#", 1)[0].strip() for line in readme_commands()]
    accounts = [line for line in lines if command_kind(line) == "accounts"]
    runs = [line for line in accounts if " run " in line or line == "wait"]
    assert sum(line.endswith("&") for line in runs) == len(ACCOUNTS), runs

    first = _run_accounts(project, accounts, tokens)
    truths = _truths(project, emulators, tmp_path)
    _assert_side_by_side(first["stderr"])
    for name in ACCOUNTS:
        emitted = emitted_counts(first["stderr"][name])
        assert emitted == {s: n for s, n in truths[name].emitted.items() if n}, name
    _assert_accounts_differ(truths)
    counts = _assert_schemas(postgres, truths)
    states = _assert_states(project, first["outputs"], truths)

    changes = {name: emulators[name].mutate(**CHANGES[name]) for name in ACCOUNTS}
    rerun = [line for line in accounts if line in runs]
    acme_run = next(line for line in rerun if _account_of(line) == "acme")
    # acme's loader waits on a lock the test holds, so acme's job is surely running when the
    # same pipeline is started again: Meltano must refuse it. Then the lock goes, and the run.
    with contextlib.ExitStack() as lock:
        lock.enter_context(postgres.locked(DATABASE, "zendesk_acme.tickets"))

        def start_acme_again() -> None:
            with lock:
                deadline = time.monotonic() + 120
                while not postgres.waiting(DATABASE):
                    assert time.monotonic() < deadline, "acme's loader never reached its table"
                    time.sleep(0.2)
                line = acme_run.removesuffix("&").strip()
                twice = project.start(line, **{TOKEN: tokens["acme"]})
                _, stderr = twice.communicate(timeout=120)
            assert twice.returncode != 0, "Meltano ran one account's pipeline twice at once"
            assert f"Another '{_state_id('acme')}' pipeline is already running" in stderr

        second = _run_accounts(project, rerun, tokens, while_running=start_acme_again)
    _assert_side_by_side(second["stderr"])
    truths = _truths(project, emulators, tmp_path)
    for name in ACCOUNTS:
        emitted = emitted_counts(second["stderr"][name])
        # Resumed from its own state: exactly the account's own changes, nothing more.
        changed = changes[name]
        tickets = {*changed["update_tickets"], *changed["create_tickets"]}
        assert emitted["tickets"] == len(tickets | set(changed["delete_tickets"])), name
        assert emitted["users"] == len(changed["update_users"]), name
    again = _assert_schemas(postgres, truths)
    after = {name: project.state(_state_id(name))["singer_state"] for name in ACCOUNTS}
    for name in ACCOUNTS:
        assert after[name] != states[name], f"{name}: the second run stored no new state"
        assert _tickets_bookmark(after[name]) == _max_generated(truths[name]), name
    print(f"accounts: {counts} rows, then {again} rows; states {sorted(states)}")


def _truths(project: Project, emulators, workdir) -> dict[str, t.Any]:
    """What the installed tap extracts from each account now, run alone."""
    tap = project.venv_bin("extractors", "tap-zendesk", "tap-zendesk")
    truths = {}
    for name, emulator in emulators.items():
        config = tap_config(emulator)
        truths[name] = extract(tap, config, workdir, catalog_for(config, STREAMS))
    return truths


def _state_id(account: str) -> str:
    return f"dev:tap-zendesk--{account}-to-target-postgres"


def _assert_side_by_side(stderr: dict[str, str]) -> None:
    """The two runs overlapped in time: one project ran both jobs at once."""
    (start_a, end_a), (start_b, end_b) = (_started(stderr[name]) for name in ACCOUNTS)
    assert start_a < end_b, "the two runs did not overlap"
    assert start_b < end_a, "the two runs did not overlap"


def _assert_accounts_differ(truths) -> None:
    """The test can fail: the same ids hold different tickets in the two accounts."""
    acme, globex = (truths[name].latest["tickets"] for name in ACCOUNTS)
    shared = set(acme) & set(globex)
    assert len(shared) >= SIZES["tickets"] // 2
    differ = [key for key in shared if acme[key]["subject"] != globex[key]["subject"]]
    assert len(differ) >= len(shared) // 2


def _assert_schemas(postgres: Postgres, truths) -> dict[str, int]:
    """Each account's schema holds exactly its account's rows: keys, bookmarks, subjects."""
    totals = {}
    for name in ACCOUNTS:
        tables = postgres.tables(DATABASE, f"zendesk_{name}")
        counts = assert_merged(tables, truths[name], where=f"schema zendesk_{name}")
        assert set(tables) == set(counts), f"zendesk_{name} has tables the tap did not fill"
        totals[name] = sum(counts.values())
    assert postgres.sql(
        "select coalesce(json_agg(schema_name order by schema_name), '[]')"
        " from information_schema.schemata where schema_name like 'zendesk%'",
        DATABASE,
    ) == [f"zendesk_{name}" for name in ACCOUNTS]
    return totals


def _assert_states(project: Project, outputs: dict[str, str], truths) -> dict[str, t.Any]:
    """One state per account, as `meltano state list` shows, each at its own bookmarks."""
    listed = next(out for line, out in outputs.items() if line.split()[1:3] == ["state", "list"])
    assert sorted(re.findall(r"^(\S+)$", listed, flags=re.MULTILINE)) == sorted(
        _state_id(name) for name in ACCOUNTS
    )
    shown = [line for line in outputs if line.split()[1:3] == ["state", "get"]]
    assert shown, "the README shows no `meltano state get`"
    states = {name: project.state(_state_id(name))["singer_state"] for name in ACCOUNTS}
    for name in ACCOUNTS:
        assert _tickets_bookmark(states[name]) == _max_generated(truths[name]), name
    assert _max_generated(truths["acme"]) != _max_generated(truths["globex"])
    return states


def _tickets_bookmark(state: dict[str, t.Any]) -> int:
    return state["bookmarks"]["tickets"]["replication_key_value"]


def _max_generated(truth) -> int:
    return max(record["generated_timestamp"] for record in truth.latest["tickets"].values())
