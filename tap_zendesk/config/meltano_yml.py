"""The tap's settings as meltano.yml declares them, made from options.py's table.

`python -m tools.readme` writes them into meltano.yml; tests/integration/test_about.py fails
while the file says something else.
"""

from __future__ import annotations

import typing as t

from tap_zendesk.config.options import OPTION

# The Meltano kind of each JSON type that Meltano passes to the tap unchanged. Numbers are
# `integer`, not `decimal`: Meltano 4.4 turns a decimal set from the environment or `meltano
# config set` into a Decimal it cannot write to the tap's config.
_MELTANO_KINDS = {"boolean": "boolean", "integer": "integer", "number": "integer"}
_MELTANO_KINDS |= {"array": "array", "object": "object", "date-time": "date_iso8601"}


def meltano_settings(schema: t.Mapping[str, t.Any]) -> list[dict[str, t.Any]]:
    """meltano.yml's `settings` of the tap: one per property of `schema`, the tap's config
    JSON schema with the SDK's settings added (`--about --format=json`'s `settings`)."""
    return [_meltano_setting(name, prop) for name, prop in schema["properties"].items()]


def _meltano_setting(name: str, prop: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    option = OPTION.get(name)
    json_type = prop.get("format") or next(kind for kind in prop["type"] if kind != "null")
    kind = _MELTANO_KINDS.get(json_type)
    if option and option.choices:
        kind = "options"
    elif option and option.meltano_kind:
        kind = option.meltano_kind
    setting: dict[str, t.Any] = {"name": name}
    if kind:
        setting["kind"] = kind
    setting["label"] = prop["title"]
    if description := prop.get("description"):
        setting["description"] = description
    if prop.get("secret"):
        setting["sensitive"] = True
    if "default" in prop:
        default = prop["default"]
        # An `integer` setting's default reads as one in meltano.yml: 1800, not 1800.0.
        is_whole = kind == "integer" and isinstance(default, float) and default.is_integer()
        setting["value"] = int(default) if is_whole else default
    if option and option.choices:
        setting["options"] = [{"label": label, "value": value} for value, label in option.choices]
    return setting
