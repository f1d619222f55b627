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

STREAM_PATHS = {
    "tickets": "/api/v2/incremental/tickets/cursor.json",
    "users": "/api/v2/incremental/users/cursor.json",
    "organizations": "/api/v2/incremental/organizations.json",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", required=True, help="path of the target-jsonl executable")
    parser.add_argument("--workdir", default=".demo", type=Path)
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=4_000)
    parser.add_argument("--organizations", type=int, default=800)
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
        requests_per_path = emulator.stats["requests_by_path"]

    if tap_process.returncode or target_process.returncode:
        print(f"The sync failed; see {workdir}/tap.log", file=sys.stderr)
        return 1

    total = 0
    print(f"\n{'stream':<15}{'records':>10}{'requests':>10}  file")
    for stream, path in STREAM_PATHS.items():
        file = output / f"{stream}.jsonl"
        count = sum(1 for _ in file.open()) if file.exists() else 0
        total += count
        requests = requests_per_path.get(path, 0)
        print(f"{stream:<15}{count:>10}{requests:>10}  {file}")
    print(
        f"\n{total} records in {elapsed:.1f} s ({total / elapsed:,.0f} records/s, tap and "
        f"target together). Final state: {workdir}/state.jsonl; log: {workdir}/tap.log"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
