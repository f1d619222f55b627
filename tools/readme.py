"""`python -m tools.readme`: write `tap-zendesk --about --format=markdown`'s settings table
into README.md, between the markers below, and the tap's settings made from
tap_zendesk/config/options.py into meltano.yml, between its `# settings:start`/`# settings:end`
comments (nothing else in meltano.yml is touched). tests/integration/test_about.py fails
while either differs.

Without the markers yet, README's first table under "## Settings" is replaced and wrapped in
them; meltano.yml's markers are written by hand, around the tap-zendesk extractor's `settings:`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import typing as t
from pathlib import Path

import yaml

from tap_zendesk.config.meltano_yml import meltano_settings

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- settings:start -->", "<!-- settings:end -->"
MELTANO_YML = README.with_name("meltano.yml")
YML_START, YML_END = "# settings:start", "# settings:end"
COMMAND = "python -m tools.readme"


def about_settings_table() -> str:
    """The table under "## Settings" in the tap's own markdown about page."""
    return _first_table(_about("markdown").split("\n## Settings\n", 1)[1])


def about_settings_schema() -> dict[str, t.Any]:
    """The config JSON schema `--about` gives: the tap's settings and the SDK's."""
    return json.loads(_about("json"))["settings"]


def _about(output_format: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "tap_zendesk", "--about", f"--format={output_format}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


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


class _OneLine(dict):
    """A mapping written on one line, `{label: ..., value: ...}`: a choice reads as one."""


class _Dumper(yaml.SafeDumper):
    """A SafeDumper of its own, so that teaching it `_OneLine` changes no other dump."""


_Dumper.add_representer(
    _OneLine,
    lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True),
)


def meltano_settings_yaml(schema: t.Mapping[str, t.Any], indent: str = "    ") -> str:
    """The extractor's `settings:` key as meltano.yml lines, each prefixed with `indent`."""
    settings = [
        {**setting, "options": [_OneLine(choice) for choice in setting["options"]]}
        if "options" in setting
        else setting
        for setting in meltano_settings(schema)
    ]
    # Wrapped so that, indented, long descriptions stay within about 100 columns.
    body = yaml.dump(
        {"settings": settings}, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=84
    )
    return "".join(f"{indent}{line}\n" for line in body.splitlines())


def with_meltano_settings(text: str, schema: t.Mapping[str, t.Any]) -> str:
    """The meltano.yml text with the settings of `schema` between the markers."""
    lines = text.splitlines(keepends=True)
    span = _yml_span(lines)
    if span is None:
        msg = f"meltano.yml has no {YML_START!r}/{YML_END!r} comments around the tap's settings"
        raise SystemExit(msg)
    marker = lines[span[0] - 1]
    indent = marker[: len(marker) - len(marker.lstrip())]
    return "".join([*lines[: span[0]], meltano_settings_yaml(schema, indent), *lines[span[1] :]])


def _yml_span(lines: list[str]) -> tuple[int, int] | None:
    """Where the lines between the markers start and end (the markers left out)."""
    starts = [i for i, line in enumerate(lines) if line.strip().startswith(YML_START)]
    ends = [i for i, line in enumerate(lines) if line.strip().startswith(YML_END)]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        return None
    return starts[0] + 1, ends[0]


def main() -> None:
    text = README.read_text(encoding="utf-8")
    README.write_text(with_settings_table(text, about_settings_table()), encoding="utf-8")
    text = MELTANO_YML.read_text(encoding="utf-8")
    MELTANO_YML.write_text(with_meltano_settings(text, about_settings_schema()), encoding="utf-8")


if __name__ == "__main__":
    main()
