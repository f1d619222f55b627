"""Real Singer targets and Meltano, each in its own virtual environment under .venv-targets/.

`make test` builds them (pinned in the Makefile) and sets ZENDESK_TESTS_REQUIRE_TARGETS, so
there a missing one fails; run alone, pytest skips the tests that need one and says why.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

from tests.support.tap import write_json

ROOT = Path(__file__).resolve().parents[2]
TARGETS = ROOT / ".venv-targets"
TAP_BIN = Path(sys.executable).with_name("tap-zendesk")
REQUIRE = "ZENDESK_TESTS_REQUIRE_TARGETS"


def installed(venv: str, executable: str | None = None) -> Path:
    """The path of `executable` (default: `venv`) in .venv-targets/<venv>; skip if missing."""
    path = TARGETS / venv / "bin" / (executable or venv)
    if not (path.parent / ".installed").exists():
        reason = f".venv-targets/{venv} is not built: `make test` builds it"
        if os.environ.get(REQUIRE):
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def pipe(
    tap_args: t.Sequence[str | Path],
    target: Path,
    target_config: dict[str, t.Any],
    workdir: Path,
    *,
    name: str = "run",
) -> list[dict[str, t.Any]]:
    """`tap-zendesk ARGS | TARGET --config ...` through a real shell pipe, as users type it.

    Returns the STATE values the target printed; fails the test if either side failed.
    """
    config = write_json(workdir / f"{name}-target.json", target_config)
    tap = " ".join([str(TAP_BIN), *(str(arg) for arg in tap_args)])
    tap_log, target_log = workdir / f"{name}-tap.log", workdir / f"{name}-target.log"
    command = f"set -o pipefail; {tap} 2>{tap_log} | {target} --config {config} 2>{target_log}"
    done = subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        cwd=workdir,
        timeout=180,
        check=False,
    )
    logs = f"tap:\n{tap_log.read_text()[-3000:]}\ntarget:\n{target_log.read_text()[-3000:]}"
    assert done.returncode == 0, logs
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def duckdb_query(database: Path, sql: str) -> list[list[t.Any]]:
    """Rows of a query, run by the duckdb module of target-duckdb's own environment."""
    python = installed("target-duckdb", "python")
    script = (
        "import duckdb, json, sys\n"
        "connection = duckdb.connect(sys.argv[1], read_only=True)\n"
        "rows = connection.sql(sys.argv[2]).fetchall()\n"
        "print(json.dumps(rows, default=str))\n"
    )
    done = subprocess.run(
        [python, "-c", script, str(database), sql],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def zendesk_values(record: dict[str, t.Any], truth: dict[str, t.Any]) -> dict[str, t.Any]:
    """The record's values of Zendesk's own keys (typed custom-field columns come on top)."""
    return {key: record.get(key) for key in truth}
