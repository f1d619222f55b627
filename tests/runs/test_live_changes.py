"""Tickets updated while the export runs are in this run or the next, never lost.

Zendesk keeps serving while the tap pages through the export: a ticket updated (or created)
after the tap read past it moves to the end of the export. Either the running sync still reaches
it, or the next sync, started from the final STATE, does; and what is emitted is the latest
version.
"""

from __future__ import annotations

import json
import subprocess

from tests.support.tap import TAP, TapRun, as_served, assert_no_secrets, catalog_for, config_for

PAGE = 10


def test_tickets_changed_during_a_sync_are_in_that_sync_or_the_next(
    make_emulator, run_tap, tmp_path
):
    emulator = make_emulator(tickets=150, users=40, organizations=20)
    # Every response takes 0.1 s, so the 15 pages of tickets take long enough to change data
    # in the middle of them.
    emulator.configure(fault_rate=1.0, fault_kinds=["slow"], slow_seconds=0.1)
    config = config_for(emulator, page_size=PAGE)
    catalog = catalog_for(config, ["tickets"])
    (tmp_path / "live-config.json").write_text(json.dumps(config))
    (tmp_path / "live-catalog.json").write_text(json.dumps(catalog))

    stderr_path = tmp_path / "live-stderr.log"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [
                *TAP,
                *("--config", str(tmp_path / "live-config.json")),
                *("--catalog", str(tmp_path / "live-catalog.json")),
            ],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    assert process.stdout is not None
    lines, states, changed = [], 0, None
    for line in process.stdout:
        lines.append(line)
        states += json.loads(line)["type"] == "STATE"
        if states == 3 and changed is None:
            assert process.poll() is None, "the sync ended before the change"
            changed = emulator.mutate(update_tickets=5, create_tickets=3)
            records_before_change = sum('"type":"RECORD"' in sent for sent in lines)
    process.wait(timeout=60)
    first = TapRun(process.returncode, "".join(lines), stderr_path.read_text())
    emulator.configure(fault_rate=0.0)

    second = run_tap(config, state=first.final_state, catalog=catalog)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert changed is not None
    # The change fell inside the export: pages of tickets came after it.
    assert records_before_change < len(first.records("tickets"))
    emitted = set(first.ids("tickets")) | set(second.ids("tickets"))
    assert emitted == set(emulator.dataset.ids("tickets"))
    records = [as_served(r) for r in first.records("tickets") + second.records("tickets")]
    for ticket_id in changed["update_tickets"] + changed["create_tickets"]:
        latest = emulator.dataset.get("tickets", ticket_id)
        assert latest in records, ticket_id
    assert_no_secrets(first, emulator)
    assert_no_secrets(second, emulator)
