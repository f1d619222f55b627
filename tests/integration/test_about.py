"""The README's settings table is the tap's own: `tap-zendesk --about --format=markdown`, and
meltano.yml's tap-zendesk settings are the ones made from tap_zendesk/config/options.py.

A setting added, renamed or redescribed in options.py without regenerating both fails here.
"""

from __future__ import annotations

from tools.readme import (
    COMMAND,
    MELTANO_YML,
    README,
    about_settings_schema,
    about_settings_table,
    readme_settings_table,
    with_meltano_settings,
)


def test_readme_settings_table_is_the_about_output():
    table = readme_settings_table(README.read_text(encoding="utf-8"))

    assert table is not None, f"README.md has no settings markers: run `{COMMAND}`"
    assert table == about_settings_table(), f"README.md's settings table is stale: run `{COMMAND}`"


def test_meltano_yml_settings_are_the_options_table():
    text = MELTANO_YML.read_text(encoding="utf-8")

    # Without the markers, with_meltano_settings fails saying so.
    assert with_meltano_settings(text, about_settings_schema()) == text, (
        f"meltano.yml's tap-zendesk settings are stale: run `{COMMAND}`"
    )


def test_about_lists_every_setting_with_a_description():
    rows = about_settings_table().splitlines()[2:]

    assert rows
    for row in rows:
        name, _required, _default, description = (
            cell.strip() for cell in row.strip("|").split(" | ", 3)
        )
        assert description, f"setting {name} has no description"
