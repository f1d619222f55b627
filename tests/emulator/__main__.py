"""Run the emulator as a process: ``python -m tests.emulator --port 0 ...``.

Prints ``EMULATOR_URL=<url>`` as one flushed stdout line (and optionally writes the URL to a
file) so a parent process can wait for readiness, then serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType

from .server import Emulator


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.emulator", description="Local Zendesk Support API emulator."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--organizations", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--time-scale",
        type=float,
        default=60.0,
        help="real seconds that stand for one rate-limit minute",
    )
    parser.add_argument("--account-limit", type=int, default=None)
    parser.add_argument("--export-limit", type=int, default=None)
    parser.add_argument(
        "--password-enabled",
        action="store_true",
        help="accept email:password Basic auth (off by default, as on newer accounts)",
    )
    parser.add_argument("--url-file", type=Path, default=None)
    return parser


def _write_atomically(path: Path, text: str) -> None:
    # A reader polling for the file must never see it half-written.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        handle.write(text + "\n")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    emulator = Emulator(
        tickets=args.tickets,
        users=args.users,
        organizations=args.organizations,
        seed=args.seed,
        time_scale=args.time_scale,
        account_limit=args.account_limit,
        export_limit=args.export_limit,
        password_enabled=args.password_enabled,
        host=args.host,
        port=args.port,
    )
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    emulator.start()
    try:
        if args.url_file is not None:
            _write_atomically(args.url_file, emulator.url)
        print(f"EMULATOR_URL={emulator.url}", flush=True)
        # Short waits keep the main thread responsive to signals on every platform.
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
    print("emulator stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
