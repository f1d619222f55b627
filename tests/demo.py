"""`make demo`: the tap extracts the bundled Zendesk emulator into target-jsonl.

Starts the emulator on a free loopback port, runs
`tap-zendesk --config .demo/config.json | target-jsonl --config .demo/target-jsonl.json`,
then prints the records and HTTP requests per stream and where the files are.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.emulator import Emulator


def requests_per_stream(log: Path) -> dict[str, int]:
    """Sum the tap's `http_request_count` metrics (logged as deltas) per stream."""
    counts: dict[str, int] = {}
    for line in log.read_text().splitlines():
        if '"metric":"http_request_count"' in line:
            point = json.loads(line.split("METRIC: ", 1)[1])
            stream = point["tags"]["stream"]
            counts[stream] = counts.get(stream, 0) + point["value"]
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", required=True, help="path of the target-jsonl executable")
    parser.add_argument("--workdir", default=".demo", type=Path)
    parser.add_argument("--tickets", type=int, default=5_000)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--organizations", type=int, default=200)
    args = parser.parse_args()

    workdir: Path = args.workdir
    output = workdir / "output"
    shutil.rmtree(output, ignore_errors=True)
    output.mkdir(parents=True)
    tap = Path(sys.executable).with_name("tap-zendesk")

    with Emulator(
        tickets=args.tickets, users=args.users, organizations=args.organizations, seed=1
    ) as emulator:
        credentials = emulator.credentials
        config = {
            "url": emulator.url,
            "email": credentials["email"],
            "api_token": credentials["api_token"],
            "start_date": "2020-01-01",
            # The demo emulator enforces no rate limits; Zendesk's own would make it wait.
            "rate_limit_per_minute": 1_000_000,
            "export_rate_limit_per_minute": 1_000_000,
        }
        (workdir / "config.json").write_text(json.dumps(config, indent=2))
        target_config = {"destination_path": str(output), "do_timestamp_file": False}
        (workdir / "target-jsonl.json").write_text(json.dumps(target_config, indent=2))
        print(f"Zendesk emulator serving at {emulator.url}")
        print(f"$ tap-zendesk --config {workdir}/config.json | target-jsonl --config ...")

        started = time.perf_counter()
        with (workdir / "tap.log").open("wb") as log:
            tap_process = subprocess.Popen(
                [str(tap), "--config", str(workdir / "config.json")],
                stdout=subprocess.PIPE,
                stderr=log,
            )
            target_process = subprocess.run(
                [args.target, "--config", str(workdir / "target-jsonl.json")],
                stdin=tap_process.stdout,
                stdout=(workdir / "state.jsonl").open("wb"),
                stderr=log,
                check=False,
            )
            tap_process.wait()
        elapsed = time.perf_counter() - started
        total_requests = emulator.stats["total_requests"]

    if tap_process.returncode or target_process.returncode:
        print(f"The sync failed; see {workdir}/tap.log", file=sys.stderr)
        return 1

    total = 0
    requests = requests_per_stream(workdir / "tap.log")
    print(f"\n{'stream':<34}{'records':>9}{'requests':>10}  file")
    for stream in sorted(requests):
        file = output / f"{stream}.jsonl"
        count = sum(1 for _ in file.open()) if file.exists() else 0
        total += count
        print(f"{stream:<34}{count:>9}{requests[stream]:>10}  {file}")
    print(
        f"\n{total} records, {total_requests} HTTP requests in {elapsed:.1f} s "
        f"({total / elapsed:,.0f} records/s, tap and target together).\n"
        f"Final state: {workdir}/state.jsonl; log: {workdir}/tap.log"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
