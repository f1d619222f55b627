"""`python -m tools.readme`: write `tap-zendesk --about --format=markdown`'s settings table
into README.md, between the markers below. tests/integration/test_about.py fails while the two
differ.

Without the markers yet, the first table under "## Settings" is replaced and wrapped in them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- settings:start -->", "<!-- settings:end -->"
COMMAND = "python -m tools.readme"


def about_settings_table() -> str:
    """The table under "## Settings" in the tap's own markdown about page."""
    about = subprocess.run(
        [sys.executable, "-m", "tap_zendesk", "--about", "--format=markdown"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return _first_table(about.split("\n## Settings\n", 1)[1])


def readme_settings_table(text: str) -> str | None:
    """The README's table between the markers, or None when they are missing."""
    if START not in text or END not in text:
        return None
    return text.split(START, 1)[1].split(END, 1)[0].strip()


def with_settings_table(text: str, table: str) -> str:
    """The README text with `table` between the markers (added around the old table)."""
    block = f"{START}\n{table}\n{END}"
    if readme_settings_table(text) is not None:
        before, _, rest = text.partition(START)
        return before + block + rest.partition(END)[2]
    head, sep, rest = text.partition("\n## Settings\n")
    if not sep:
        msg = 'README.md has no "## Settings" section to put the table in'
        raise SystemExit(msg)
    old = _first_table(rest)
    return head + sep + rest.replace(old, block, 1)


def _first_table(text: str) -> str:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return "\n".join(lines[start:end])


def main() -> None:
    text = README.read_text(encoding="utf-8")
    README.write_text(with_settings_table(text, about_settings_table()), encoding="utf-8")


if __name__ == "__main__":
    main()
