"""The `legacy_schema` layout: the columns, types and keys of the incumbent Singer tap.

Teams moving from `tap-zendesk` 2.8.2 (singer-io) keep every downstream column: with
`legacy_schema` each stream that tap also has is emitted with its property names, JSON types
(nested objects and arrays included, `format: date-time` where it has it) and key properties.

- `layouts`: each stream's layout, written in the notation that `schema` describes.
- `schema`: `LegacyLayout`, the notation and the incumbent's schema built from ours.
- `records`: records given the shape of the emitted schema.
"""

from tap_zendesk.legacy.layouts import LAYOUTS
from tap_zendesk.legacy.schema import LegacyLayout

__all__ = ["LAYOUTS", "LegacyLayout"]
