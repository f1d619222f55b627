"""`make demo`: the tap extracts the bundled Zendesk emulator into target-jsonl, then merges into
target-duckdb.

1. Starts the emulator on a free loopback port and runs
   `tap-zendesk --config .demo/config.json | target-jsonl --config .demo/target-jsonl.json`
   with every default stream, a custom search, the premade searches and the ticket
   side-loads; prints the records and HTTP requests per stream (from the tap's own
   "Run summary" lines) and where the files are.
2. Merge: runs `tap-zendesk | target-duckdb` twice on tickets, users and organizations, the
   emulator updating, creating and deleting tickets in between and the second run resuming
   from the state the first left. Then asks DuckDB whether every table holds one row per id,
   as many as the emulator serves, and whether the changed tickets hold their new values.
   Exits 1 when they do not.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.emulator import Emulator

TAP = Path(sys.executable).with_name("tap-zendesk")
SEARCH_QUERIES = [{"name": "vip_pending", "query": "type:ticket status:pending tags:vip"}]
PREMADE_QUERIES = ["open_tickets", "closed_tickets"]
TICKET_SIDELOADS = ["metric_sets", "users", "groups", "organizations", "brands"]
MERGE_STREAMS = ("tickets", "users", "organizations")
SCHEMA = "zendesk"
CHANGES = {"update_tickets": 6, "create_tickets": 4, "delete_tickets": 2}
# What an update changes on a ticket (the emulator's rules), compared in the warehouse.
CHANGED_COLUMNS = ("status", "priority", "generated_timestamp")
SUMMARY = "Run summary: "
# Runs SQL statements with target-duckdb's own duckdb module (its environment pins it).
QUERY_SCRIPT = (
    "import duckdb, json, sys\n"
    "connection = duckdb.connect(sys.argv[1], read_only=True)\n"
    "print(json.dumps([connection.sql(q).fetchall() for q in sys.argv[2:]], default=str))\n"
)


class DemoError(Exception):
    """A run failed or the warehouse does not hold what the emulator serves."""


def run_summary(log: Path) -> dict[str, tuple[int, int]]:
    """(records, requests) per stream from the tap's end-of-run table in its log.

    Rows read `Run summary: <stream> <records> <requests> <429s> <skips> <duration>`;
    the totals line, the header and the skip lines do not fit that shape.
    """
    rows: dict[str, tuple[int, int]] = {}
    for line in log.read_text(errors="replace").splitlines():
        _, marker, rest = line.partition(SUMMARY)
        cells = rest.split()
        if not marker or len(cells) != 6:
            continue
        records, requests = (cell.replace(",", "") for cell in cells[1:3])
        if records.isdigit() and requests.isdigit():
            rows[cells[0]] = (int(records), int(requests))
    return rows


def summary_notes(log: Path) -> list[str]:
    """The summary's lines about skipped streams and reads, worth showing as they are."""
    return [
        line.partition(SUMMARY)[2]
        for line in log.read_text(errors="replace").splitlines()
        if SUMMARY in line and "skipped" in line
    ]


def pipe(tap_args: list[str], target: list[str], log: Path, target_stdout: Path) -> float:
    """`tap-zendesk ARGS | TARGET`, both logging to `log`; seconds taken. Raises if one fails."""
    started = time.perf_counter()
    with log.open("wb") as errors, target_stdout.open("wb") as states:
        tap = subprocess.Popen([str(TAP), *tap_args], stdout=subprocess.PIPE, stderr=errors)
        assert tap.stdout is not None
        target_code = subprocess.call(target, stdin=tap.stdout, stdout=states, stderr=errors)
        tap.stdout.close()
        tap_code = tap.wait()
    if tap_code or target_code:
        raise DemoError(
            f"tap-zendesk exited with {tap_code}, {Path(target[0]).name} with {target_code}; "
            f"see {log}"
        )
    return time.perf_counter() - started


def write_json(path: Path, content: Any) -> Path:
    path.write_text(json.dumps(content, indent=2))
    return path


def line_count(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open("rb") as lines:
        return sum(1 for _ in lines)


def extract_to_jsonl(emulator: Emulator, args: argparse.Namespace, config: Path) -> None:
    workdir: Path = args.workdir
    output = workdir / "output"
    shutil.rmtree(output, ignore_errors=True)
    output.mkdir(parents=True)
    target_config = write_json(
        workdir / "target-jsonl.json", {"destination_path": str(output), "do_timestamp_file": False}
    )
    print(f"$ tap-zendesk --config {config} | target-jsonl --config {target_config}")
    print(
        f"  searches: {', '.join(q['name'] for q in SEARCH_QUERIES)} "
        f"({SEARCH_QUERIES[0]['query']}), {', '.join(PREMADE_QUERIES)}; "
        f"ticket side-loads: {', '.join(TICKET_SIDELOADS)}"
    )
    log = workdir / "tap.log"
    elapsed = pipe(
        ["--config", str(config)],
        [args.target, "--config", str(target_config)],
        log,
        workdir / "state.jsonl",
    )
    summary = run_summary(log)
    if not summary:
        raise DemoError(f"the tap logged no run summary; see {log}")

    total_records = 0
    print(f"\n{'stream':<34}{'records':>9}{'requests':>10}  file")
    for stream in sorted(summary):
        file = output / f"{stream}.jsonl"
        records, requests = line_count(file), summary[stream][1]
        total_records += records
        shown = file if file.exists() else "-"
        print(f"{stream:<34}{records:>9}{requests:>10}  {shown}")
        if records != summary[stream][0]:
            raise DemoError(f"{stream}: the tap emitted {summary[stream][0]}, {file} has {records}")
    for note in summary_notes(log):
        print(f"  {note}")
    total_requests = emulator.stats["total_requests"]
    print(
        f"\n{total_records} records, {total_requests} HTTP requests in {elapsed:.1f} s "
        f"({total_records / elapsed:,.0f} records/s, tap and target together). Streams with 0 "
        "requests ride on another's responses (side-loads, audits, comments).\n"
        f"Final state: {workdir}/state.jsonl; log: {log}"
    )


def discover(config: Path, streams: tuple[str, ...], catalog: Path) -> Path:
    """The tap's catalog with only `streams` selected, as a user would edit it."""
    found = subprocess.run(
        [str(TAP), "--config", str(config), "--discover"],
        capture_output=True,
        check=False,
    )
    if found.returncode:
        raise DemoError(f"--discover failed: {found.stderr.decode(errors='replace')[-2000:]}")
    content = json.loads(found.stdout)
    for entry in content["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return write_json(catalog, content)


def duckdb(python: str, database: Path, *queries: str) -> list[list[list[Any]]]:
    done = subprocess.run(
        [python, "-c", QUERY_SCRIPT, str(database), *queries],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise DemoError(f"the DuckDB query failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def last_state(path: Path) -> Any:
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    if not lines:
        raise DemoError(f"the target printed no state to {path}")
    return json.loads(lines[-1])


def ticket_row(python: str, database: Path, ticket_id: int) -> str:
    columns = ", ".join(("updated_at", *CHANGED_COLUMNS))
    sql = f"SELECT {columns} FROM {SCHEMA}.tickets WHERE id = {ticket_id}"
    (rows,) = duckdb(python, database, sql)
    return ", ".join(f"{c}={v}" for c, v in zip(columns.split(", "), rows[0], strict=True))


def merge_into_duckdb(emulator: Emulator, args: argparse.Namespace, config: Path) -> None:
    workdir: Path = args.workdir
    database = workdir / "warehouse.duckdb"
    database.unlink(missing_ok=True)
    target_config = write_json(
        workdir / "target-duckdb.json", {"path": str(database), "default_target_schema": SCHEMA}
    )
    catalog = discover(config, MERGE_STREAMS, workdir / "merge-catalog.json")
    target = [args.duckdb_target, "--config", str(target_config)]
    tap_args = ["--config", str(config), "--catalog", str(catalog)]
    print(f"\nMerge: {', '.join(MERGE_STREAMS)} into DuckDB ({database}), twice.")
    print(f"$ tap-zendesk {' '.join(tap_args)} | target-duckdb --config {target_config}")

    def run(name: str, extra: list[str]) -> None:
        log = workdir / f"merge-{name}.log"
        elapsed = pipe([*tap_args, *extra], target, log, workdir / f"merge-{name}-state.jsonl")
        counts = run_summary(log)
        loaded = ", ".join(f"{counts.get(s, (0, 0))[0]} {s}" for s in MERGE_STREAMS)
        print(f"  {name}: {loaded} in {elapsed:.1f} s (log: {log})")

    run("run1", [])
    state = write_json(workdir / "merge-state.json", last_state(workdir / "merge-run1-state.jsonl"))
    changes = emulator.mutate(**CHANGES)
    watched = changes["update_tickets"][0]
    before = ticket_row(args.duckdb_python, database, watched)
    print(
        f"Emulator: {len(changes['update_tickets'])} tickets updated, "
        f"{len(changes['create_tickets'])} created, {len(changes['delete_tickets'])} deleted"
    )
    print(f"$ tap-zendesk {' '.join(tap_args)} --state {state} | target-duckdb ...")
    run("run2", ["--state", str(state)])
    after = ticket_row(args.duckdb_python, database, watched)

    queries = [f"SELECT count(*), count(DISTINCT id) FROM {SCHEMA}.{s}" for s in MERGE_STREAMS]
    changed = sorted({i for key in CHANGES for i in changes[key]})
    columns = ", ".join(CHANGED_COLUMNS)
    id_list = ", ".join(map(str, changed))
    *counts, changed_rows = duckdb(
        args.duckdb_python,
        database,
        *queries,
        f"SELECT id, {columns} FROM {SCHEMA}.tickets WHERE id IN ({id_list})",
    )
    problems = []
    print()
    for stream, query, ((rows, distinct),) in zip(MERGE_STREAMS, queries, counts, strict=True):
        served = len(emulator.dataset.truth(stream))
        print(
            f"duckdb> {query};\n"
            f"  {rows} rows, {distinct} distinct ids; the emulator serves {served}"
        )
        if not rows == distinct == served:
            problems.append(f"{stream}: {rows} rows, {distinct} distinct ids, {served} served")
    print(
        "(users and organizations also come side-loaded with tickets, so their streams carry "
        "some ids more than once: the target's upsert keeps one row each.)"
    )
    print(f"Ticket {watched} before run 2: {before}")
    print(f"Ticket {watched} after run 2:  {after}")
    stale = [
        row[0]
        for row in changed_rows
        if tuple(row[1:])
        != tuple(emulator.dataset.get("tickets", row[0])[c] for c in CHANGED_COLUMNS)
    ]
    missing = sorted(set(changed) - {row[0] for row in changed_rows})
    print(
        f"{len(changed) - len(stale) - len(missing)} of {len(changed)} changed, created or deleted "
        f"tickets hold the emulator's current {columns}."
    )
    if stale or missing:
        problems.append(f"tickets with old values {stale}, missing {missing}")
    if problems:
        raise DemoError("the merge check failed: " + "; ".join(problems))
    print("Merge check passed: one row per id, every changed ticket at its latest version.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", required=True, help="path of the target-jsonl executable")
    parser.add_argument("--duckdb-target", required=True, help="path of target-duckdb")
    parser.add_argument(
        "--duckdb-python", required=True, help="a python with the duckdb module (target-duckdb's)"
    )
    parser.add_argument("--workdir", default=".demo", type=Path)
    parser.add_argument("--tickets", type=int, default=5_000)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--organizations", type=int, default=200)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    with Emulator(
        tickets=args.tickets, users=args.users, organizations=args.organizations, seed=1
    ) as emulator:
        credentials = emulator.credentials
        config = write_json(
            args.workdir / "config.json",
            {
                "url": emulator.url,
                "email": credentials["email"],
                "api_token": credentials["api_token"],
                "start_date": "2020-01-01",
                # The demo emulator enforces no rate limits; Zendesk's own would make it wait.
                "rate_limit_per_minute": 1_000_000,
                "export_rate_limit_per_minute": 1_000_000,
                "search_queries": SEARCH_QUERIES,
                "premade_queries": PREMADE_QUERIES,
                "ticket_sideloads": TICKET_SIDELOADS,
            },
        )
        print(f"Zendesk emulator serving at {emulator.url}")
        try:
            extract_to_jsonl(emulator, args, config)
            merge_into_duckdb(emulator, args, config)
        except DemoError as exc:
            print(f"\nFAILED: {exc}", file=sys.stderr)
            return 1
    print(f"\nDemo done in {time.perf_counter() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
