"""`make soak`: fifty incremental runs in a row, each resuming from the last STATE, against an
account that changes between them and fails 2 % of its responses (tests/support/soak.py).

    python -m tools.soak --runs 50
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tests.support.soak import PAGE, soak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--tickets", type=int, default=400)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as workdir:
        result = soak(args.runs, Path(workdir), tickets=args.tickets)
    print(
        f"soak: {result.runs} runs, {result.records} records, nothing lost; unchanged records "
        f"re-emitted: {result.duplicates} (at most {result.worst_duplicates_per_run} in one "
        f"stream and run, bound {PAGE}); state bytes first/last: {result.state_sizes[0]}/"
        f"{result.state_sizes[-1]}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
