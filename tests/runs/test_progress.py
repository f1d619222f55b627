"""Progress on stderr: a line per running stream every progress_interval seconds, and a
summary table per stream at the end."""

from __future__ import annotations

import re

from tests.support.tap import catalog_for, config_for

LINE = re.compile(
    r"Progress tickets: ([\d,]+) records, ([\d,]+) pages, ([\d,]+) requests, "
    r"([\d.]+) s waiting for rate limits(?:, (\d+)% done, about (\S+) left)?"
)


def _paced_run(run_tap, emulator):
    # One export request per half-second window: a few seconds of sync, long enough for
    # several lines.
    config = config_for(
        emulator,
        page_size=40,
        progress_interval=0.3,
        export_rate_limit_per_minute=1,
        rate_limit_window_seconds=0.5,
    )
    streams = ["tickets", "ticket_metrics", "ticket_fields"]
    run = run_tap(config, catalog=catalog_for(config, streams))
    assert run.returncode == 0, run.stderr
    return run


def test_a_running_export_reports_records_pages_requests_waits_and_time_left(emulator, run_tap):
    run = _paced_run(run_tap, emulator)

    lines = [LINE.search(line) for line in run.stderr.splitlines()]
    progress = [match for match in lines if match]
    assert len(progress) >= 3
    records = [int(match[1].replace(",", "")) for match in progress]
    assert records == sorted(records)
    assert records[-1] <= len(run.records("tickets"))
    assert any(float(match[4]) > 0 for match in progress)
    estimates = [int(match[5]) for match in progress if match[5]]
    assert estimates
    assert all(0 <= percent <= 100 for percent in estimates)
    # Only streams reading pages report progress: not ticket_metrics, fed by tickets.
    assert set(re.findall(r"Progress (\S+):", run.stderr)) <= {"tickets", "ticket_fields"}


def test_the_summary_has_a_row_per_stream_with_its_counts(emulator, run_tap):
    run = _paced_run(run_tap, emulator)

    rows = {
        fields[0]: fields[1:]
        for line in run.stderr.splitlines()
        if "Run summary: " in line
        for fields in [line.split("Run summary: ", 1)[1].split()]
    }
    assert rows["stream"] == ["records", "requests", "429s", "skips", "duration"]
    records, requests, throttled, skips, _ = rows["tickets"]
    assert int(records.replace(",", "")) == len(run.records("tickets"))
    pages = -(-len(emulator.dataset.ids("tickets")) // 40)
    assert pages <= int(requests) <= pages + 1
    assert (throttled, skips) == ("0", "0")
    assert int(rows["ticket_fields"][0]) == len(run.records("ticket_fields"))
    metrics = rows["ticket_metrics"]
    assert int(metrics[0].replace(",", "")) == len(run.records("ticket_metrics"))
    assert metrics[1] == "0"  # fed by the tickets export: no request of its own


def test_no_progress_lines_when_a_run_is_shorter_than_the_interval(emulator, run_tap):
    config = config_for(emulator)
    run = run_tap(config, catalog=catalog_for(config, ["ticket_fields"]))

    assert run.returncode == 0, run.stderr
    assert "Progress " not in run.stderr
    assert "Run summary: ticket_fields" in run.stderr
