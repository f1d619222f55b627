"""Account lists are read while the exports wait for their budget (tap_zendesk/streams/lists.py).

The exports' budget (10 requests a minute) bounds a sync; the lists draw on the account's
budget. Their first pages are read in the background during the export waits and taken from
there when the SDK reaches them, so records still come out stream after stream, exactly as
Zendesk serves them.
"""

from __future__ import annotations

import re

from tests.support.tap import catalog_for, config_for

# Lists sync after the exports (TapZendesk.load_streams).
LISTS = ["groups", "macros", "views", "ticket_fields"]
REQUEST = re.compile(r'"metric":"http_request_duration".*?"stream":"(\w+)"')


def _paced(make_emulator):
    # One emulated minute = 2 s, 3 export requests in it: the tickets export waits a lot.
    emulator = make_emulator(time_scale=2.0, export_limit=3)
    config = config_for(
        emulator,
        page_size=30,
        export_rate_limit_per_minute=None,
        rate_limit_per_minute=None,
        rate_limit_window_seconds=2.0,
    )
    return emulator, config


def test_lists_are_read_during_the_export_waits_and_emitted_after_it(make_emulator, run_tap):
    emulator, config = _paced(make_emulator)

    run = run_tap(config, catalog=catalog_for(config, ["tickets", *LISTS]))

    assert run.returncode == 0, run.stderr
    order = REQUEST.findall(run.stderr)
    last_export = max(i for i, stream in enumerate(order) if stream == "tickets")
    assert any(stream in LISTS for stream in order[:last_export]), order
    streams = [m["stream"] for m in run.messages if m["type"] == "RECORD"]
    first_list = min(streams.index(stream) for stream in LISTS)
    assert first_list > max(i for i, s in enumerate(streams) if s == "tickets")
    assert emulator.stats["rate_limited_total"] == 0


def test_prefetched_lists_are_exactly_what_a_live_read_gives(make_emulator, run_tap):
    _, config = _paced(make_emulator)
    catalog = catalog_for(config, ["tickets", *LISTS])
    paced = run_tap(config, catalog=catalog)
    alone = run_tap(config, catalog=catalog_for(config, LISTS))

    assert paced.returncode == alone.returncode == 0
    for stream in LISTS:
        assert paced.records(stream) == alone.records(stream), stream
