"""Fixtures of every tier: an emulator per test, and running the real tap process against it.

Plain helpers (configs, catalogs, the checks every run gets) are in tests/support/.
"""

from __future__ import annotations

import os
import subprocess
import typing as t
from pathlib import Path

import pytest
import requests

from tests.emulator import Emulator
from tests.support.tap import (
    LIVE_EMULATORS,
    TAP,
    TapRun,
    assert_no_secret_in,
    assert_records_match_schemas,
    secrets_in,
    write_json,
)


@pytest.fixture
def make_emulator() -> t.Iterator[t.Callable[..., Emulator]]:
    """Start emulators with a small, deterministic dataset; stop them after the test."""
    started: list[Emulator] = []

    def make(**options: t.Any) -> Emulator:
        settings = {"tickets": 300, "users": 80, "organizations": 40, "seed": 7, **options}
        emulator = Emulator(**settings).start()
        started.append(emulator)
        LIVE_EMULATORS.append(emulator)
        return emulator

    yield make
    for emulator in started:
        emulator.stop()
        LIVE_EMULATORS.remove(emulator)


@pytest.fixture
def emulator(make_emulator: t.Callable[..., Emulator]) -> Emulator:
    return make_emulator()


@pytest.fixture
def emu() -> t.Iterator[Emulator]:
    """The emulator's own tests: a fixed small dataset."""
    with Emulator(tickets=300, users=80, organizations=30, seed=7) as emulator:
        yield emulator


@pytest.fixture
def http(emu: Emulator) -> t.Iterator[requests.Session]:
    """A session authenticated with the emulator's API token."""
    creds = emu.credentials
    with requests.Session() as session:
        session.auth = (f"{creds['email']}/token", creds["api_token"])
        yield session


@pytest.fixture
def run_tap(tmp_path: Path) -> t.Callable[..., TapRun]:
    """Run `tap-zendesk --config ... [--state ...] [--catalog ...]` as a real process."""
    runs = 0

    def run(
        config: dict[str, t.Any] | str,
        *,
        state: dict[str, t.Any] | None = None,
        catalog: dict[str, t.Any] | None = None,
        args: t.Sequence[str] = (),
        timeout: float = 120,
        workdir: Path | None = None,
        env: t.Mapping[str, str] | None = None,
    ) -> TapRun:
        """`workdir` holds the files and is the working directory; `env` adds to os.environ."""
        nonlocal runs
        runs += 1
        folder = workdir or tmp_path
        command = [*TAP, "--config", str(write_json(folder / f"config{runs}.json", config))]
        if state is not None:
            command += ["--state", str(write_json(folder / f"state{runs}.json", state))]
        if catalog is not None:
            command += ["--catalog", str(write_json(folder / f"catalog{runs}.json", catalog))]
        done = subprocess.run(
            [*command, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=workdir,
            env=None if env is None else {**os.environ, **env},
        )
        run = TapRun(done.returncode, done.stdout, done.stderr)
        # Every run of every test: each RECORD validates against the SCHEMA emitted for it,
        # as singer-sdk targets check before they load (a mismatch aborts their load).
        assert_records_match_schemas(run.stdout)
        # Every run of every test: no credential of its config, and no token, code or
        # verifier the emulator handed out or was shown, in any output or state.
        assert_no_secret_in(run, secrets_in(config) if isinstance(config, dict) else [])
        return run

    return run
