"""Soak: many incremental runs in a row against an account that changes between them.

Each run resumes from the previous run's STATE, on an emulator that between runs updates,
creates and deletes tickets, updates users and organizations, adds comments, makes comments
private, rescores satisfaction ratings, and fails 2 % of responses at random. At the end what
reached the target (the latest version of each record, as a merging target keeps it) must be
the emulator's truth, re-emitted unchanged records must stay within a page per stream and run,
and the state must not grow with the number of runs.

`tests/runs/test_soak.py` runs it small; `make soak` runs it at 50 runs (`python -m tools.soak`).
"""

from __future__ import annotations

import json
import subprocess
import typing as t
from pathlib import Path

from tests.emulator import Emulator
from tests.support.tap import TAP, assert_records_match_schemas, catalog_for, config_for

STREAMS = (
    "tickets",
    "users",
    "organizations",
    "ticket_comments",
    "ticket_audits",
    "satisfaction_ratings",
)
# Each record's version: a re-emitted record of the same version is a duplicate.
VERSION = {
    "tickets": "generated_timestamp",
    "users": "updated_at",
    "organizations": "updated_at",
    "ticket_comments": "public",
    "ticket_audits": "created_at",
    "satisfaction_ratings": "updated_at",
}
PAGE = 50
CHANGES = {
    "update_tickets": 4,
    "create_tickets": 2,
    "delete_tickets": 1,
    "update_users": 2,
    "update_organizations": 1,
    "privatize_comments": 1,
}


class SoakResult(t.NamedTuple):
    runs: int
    records: int
    duplicates: dict[str, int]
    worst_duplicates_per_run: int
    state_sizes: list[int]


def soak(runs: int, workdir: Path, *, tickets: int = 200, fault_rate: float = 0.02) -> SoakResult:
    """Run the tap `runs` times with changes between; raise AssertionError on any loss."""
    with Emulator(tickets=tickets, users=60, organizations=25, seed=11) as emulator:
        config = config_for(emulator, page_size=PAGE, max_retries=8, outage_limit_seconds=60)
        config_path = workdir / "config.json"
        config_path.write_text(json.dumps(config))
        catalog_path = workdir / "catalog.json"
        catalog_path.write_text(json.dumps(catalog_for(config, STREAMS)))
        emulator.configure(fault_rate=fault_rate, fault_seed=5)
        latest: dict[str, dict[t.Any, dict[str, t.Any]]] = {s: {} for s in STREAMS}
        seen: dict[str, set[tuple[t.Any, t.Any]]] = {s: set() for s in STREAMS}
        duplicates = dict.fromkeys(STREAMS, 0)
        worst = 0
        sizes: list[int] = []
        state: dict[str, t.Any] | None = None
        records = 0
        for run in range(runs):
            if run:
                emulator.mutate(**CHANGES)
                emulator.account_lists.rescore(1)
            messages = _run(workdir, config_path, catalog_path, state, run)
            for stream in STREAMS:
                again = 0
                for record in (m["record"] for m in messages if _is_record(m, stream)):
                    key = (record["id"], record.get(VERSION[stream]))
                    again += key in seen[stream]
                    seen[stream].add(key)
                    latest[stream][record["id"]] = record
                    records += 1
                duplicates[stream] += again
                worst = max(worst, again)
                assert again <= PAGE, f"run {run}: {again} {stream} re-emitted unchanged"
            state = [m["value"] for m in messages if m["type"] == "STATE"][-1]
            sizes.append(len(json.dumps(state)))
        emulator.configure(fault_rate=0.0)
        _assert_truth(emulator, latest)
    # Bookmarks are positions, not histories: the state after the last run is no larger
    # than after the first few, whatever the number of runs.
    assert max(sizes[-3:]) <= max(sizes[:3]) + 400, sizes
    return SoakResult(runs, records, duplicates, worst, sizes)


def _run(
    workdir: Path, config: Path, catalog: Path, state: dict[str, t.Any] | None, run: int
) -> list[dict[str, t.Any]]:
    command = [*TAP, "--config", str(config), "--catalog", str(catalog)]
    if state is not None:
        state_path = workdir / f"state{run}.json"
        state_path.write_text(json.dumps(state))
        command += ["--state", str(state_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"run {run} failed:\n{done.stderr[-3000:]}"
    assert_records_match_schemas(done.stdout)
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def _is_record(message: dict[str, t.Any], stream: str) -> bool:
    return message["type"] == "RECORD" and message["stream"] == stream


def _assert_truth(emulator: Emulator, latest: dict[str, dict[t.Any, dict[str, t.Any]]]) -> None:
    dataset = emulator.dataset
    for kind in ("tickets", "users", "organizations"):
        truth = {obj["id"]: obj for obj in dataset.visible(kind)}
        assert set(latest[kind]) == set(truth), kind
        for item_id, obj in truth.items():
            assert latest[kind][item_id]["updated_at"] == obj["updated_at"], (kind, item_id)
    comments = {c["id"]: c for c in dataset.comments()}
    events = dataset.ticket_events(include_comments=True)
    exported = {
        child["id"]
        for item in events
        for child in item["child_events"]
        if child["event_type"] == "Comment"
    }
    assert set(latest["ticket_comments"]) == set(comments) | exported
    for comment_id, comment in comments.items():
        assert latest["ticket_comments"][comment_id]["public"] == comment["public"], comment_id
    assert set(latest["ticket_audits"]) == {item["id"] for item in events}
    ratings = {r["id"]: r for r in emulator.account_lists.objects("satisfaction_ratings")}
    assert set(latest["satisfaction_ratings"]) == set(ratings)
    for rating_id, rating in ratings.items():
        assert latest["satisfaction_ratings"][rating_id]["score"] == rating["score"], rating_id
