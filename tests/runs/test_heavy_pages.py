"""Pages too heavy to serve: the ticket events export with whole comments at 1000 a page.

On accounts with long comments such a page times out (504) or fails with a 5xx while smaller
pages of the same data come through. After two failures in a row of one page the tap asks for
it in halves (down to 25), then grows back after each page served; exports resume by time or
cursor, never by page number, so every record still comes exactly once.
"""

from __future__ import annotations

from tests.support.tap import catalog_for, config_for
from tests.support.ticket_events import ticket_events_truth

STREAMS = ["ticket_audits", "ticket_comments"]


def test_an_export_whose_full_pages_time_out_is_read_in_smaller_pages(emulator, run_tap):
    emulator.heaviest_page = 200
    config = config_for(emulator, page_size=1000, max_retries=3)

    run = run_tap(config, catalog=catalog_for(config, STREAMS))

    assert run.returncode == 0, run.stderr
    truth = ticket_events_truth(emulator)
    for stream in STREAMS:
        ids = run.ids(stream)
        assert len(ids) == len(set(ids)), stream
        assert set(ids) == truth[stream], stream
    assert "asking for smaller pages" in run.stderr
    assert emulator.stats["responses_by_status"].get("504", 0) >= 2


def test_a_run_resumed_after_shrinking_continues_exactly(emulator, run_tap):
    emulator.heaviest_page = 150
    config = config_for(emulator, page_size=1000, max_retries=3)
    catalog = catalog_for(config, ["ticket_audits"])
    first = run_tap(config, catalog=catalog)
    assert first.returncode == 0, first.stderr
    changes = emulator.mutate(update_tickets=5, create_tickets=3)

    second = run_tap(config, catalog=catalog, state=first.final_state)

    assert second.returncode == 0, second.stderr
    assert sorted(second.ids("ticket_audits")) == sorted(changes["audits"])
