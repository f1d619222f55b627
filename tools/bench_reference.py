"""The baseline `make bench` compares the tap with: a bare tickets export in plain Python.

A `requests.Session` + `json` loop over `/api/v2/incremental/tickets/cursor.json` that writes
the Singer lines the tap writes (one RECORD per ticket, one STATE per page) to stdout, with no
SDK, schema, validation or rate governor. `tools.bench` times it next to the tap, so their
ratio is what the tap's machinery costs on top of fetching and printing the same records.

    python tools/bench_reference.py --config config.json   # the tap's config file

At the end it writes `{"records": N, "requests": M}` to stderr so the benchmark can check
that it really emitted every record.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import requests

# The tap's own line format: compact separators, one message per line.
_SEPARATORS = (",", ":")


def start_time(start_date: str) -> int:
    """`start_date` as the export's `start_time`; a date or naive date-time means UTC."""
    start = dt.datetime.fromisoformat(start_date)
    if start.tzinfo is None:
        start = start.replace(tzinfo=dt.UTC)
    return int(start.timestamp())


def export_tickets(config: dict[str, object]) -> tuple[int, int]:
    """Read every ticket page and print its Singer lines; returns (records, requests)."""
    url = f"{str(config['url']).rstrip('/')}/api/v2/incremental/tickets/cursor.json"
    per_page = int(str(config.get("page_size", 1000)))
    # Every ticket, AI-agent ones included, as the tap asks (its default ticket_scope).
    scope = {"support_type_scope": "all"}
    params: dict[str, str | int] = {
        "start_time": start_time(str(config["start_date"])),
        "per_page": per_page,
        **scope,
    }
    write = sys.stdout.write
    dumps = json.dumps
    records = requests_sent = 0
    with requests.Session() as session:
        session.auth = (f"{config['email']}/token", str(config["api_token"]))
        while True:
            response = session.get(url, params=params, timeout=300)
            requests_sent += 1
            response.raise_for_status()
            page = response.json()
            tickets = page["tickets"]
            for ticket in tickets:
                message = {"type": "RECORD", "stream": "tickets", "record": ticket}
                write(dumps(message, separators=_SEPARATORS) + "\n")
            records += len(tickets)
            cursor = page["after_cursor"]
            state = {"bookmarks": {"tickets": {"cursor": cursor}}}
            write(dumps({"type": "STATE", "value": state}, separators=_SEPARATORS) + "\n")
            if page["end_of_stream"]:
                break
            params = {"cursor": cursor, "per_page": per_page, **scope}
    sys.stdout.flush()
    return records, requests_sent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, type=Path, help="the tap's config.json")
    args = parser.parse_args(argv)
    records, requests_sent = export_tickets(json.loads(args.config.read_text()))
    print(json.dumps({"records": records, "requests": requests_sent}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
