"""Valid JSON that the fast parser refuses: a lone UTF-16 surrogate escape.

`"\\ud83d"` alone (half an emoji, cut by whatever client wrote the ticket) is valid JSON (RFC
8259 §8.2); msgspec takes it for a cut body. Such a page is read by the standard parser and the
lone surrogate becomes U+FFFD, which every target can encode; nothing is retried or lost.
"""

from __future__ import annotations

import json

from tests.support.tap import catalog_for, config_for

REPLACEMENT = "\ufffd"


def test_tickets_with_half_an_emoji_are_extracted_with_a_replacement_character(emulator, run_tap):
    cut = emulator.mutate(cut_character_tickets=3)["cut_character_tickets"]
    assert b"\\ud83d" in emulator.dataset.raw("tickets", cut[0])
    config = config_for(emulator, max_retries=0)

    run = run_tap(config, catalog=catalog_for(config, ["tickets"]))

    assert run.returncode == 0, run.stderr
    tickets = {record["id"]: record for record in run.records("tickets")}
    assert set(tickets) == set(emulator.dataset.ids("tickets"))
    for ticket_id in cut:
        assert tickets[ticket_id]["subject"].endswith(" " + REPLACEMENT)
    # Every line is UTF-8 a target can decode and encode again.
    for line in run.stdout.splitlines():
        json.dumps(json.loads(line), ensure_ascii=False).encode("utf-8")
    assert "lone UTF-16 surrogate" in run.stderr
    assert "retrying" not in run.stderr


def test_the_next_run_reads_the_same_tickets_again_without_trouble(emulator, run_tap):
    config = config_for(emulator, max_retries=0)
    catalog = catalog_for(config, ["tickets"])
    first = run_tap(config, catalog=catalog)
    cut = emulator.mutate(cut_character_tickets=2)["cut_character_tickets"]

    second = run_tap(config, catalog=catalog, state=first.final_state)

    assert second.returncode == 0, second.stderr
    assert sorted(second.ids("tickets")) == cut
