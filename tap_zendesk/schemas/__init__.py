"""Stream schemas kept as JSON data, one file per stream.

Fragments that several streams share (via, photo, custom field values, ...) live once in
`shared/` and are referenced as ``{"$ref": "shared/<name>.json"}``.
"""

from __future__ import annotations

import copy
import json
import typing as t
from importlib import resources

from singer_sdk import SchemaDirectory, StreamSchema
from singer_sdk.singerlib.schema import resolve_schema_references
from typing_extensions import override


class Configurable(t.Protocol):
    """A stream that adapts its schema file to the config in use (ZendeskStream)."""

    def configure_schema(self, schema: dict[str, t.Any]) -> dict[str, t.Any]:
        """The schema for this config; `schema` is a private copy to edit."""
        ...


_ROOT = resources.files(__name__)


class ZendeskSchemas(SchemaDirectory):
    """A schema directory whose files may reference the shared fragments."""

    def __init__(self) -> None:
        super().__init__(_ROOT)
        self._shared = {
            f"shared/{entry.name}": json.loads(entry.read_text(encoding="utf-8"))
            for entry in _ROOT.joinpath("shared").iterdir()
            if entry.name.endswith(".json")
        }

    @override
    def fetch_schema(self, key: str) -> dict[str, t.Any]:
        """Read `<key>.json` and inline every shared fragment it references."""
        schema = super().fetch_schema(key)
        # The resolver edits fragments in place; each stream gets its own copy.
        return resolve_schema_references(schema, refs=copy.deepcopy(self._shared))


SCHEMAS = ZendeskSchemas()


class ConfiguredSchema(StreamSchema):
    """A stream's schema file, adapted once per stream to its config by `configure_schema`
    (typed custom-field columns, no attachments, the legacy layout)."""

    @override
    def get_stream_schema(
        self, stream: Configurable, stream_class: type[Configurable]
    ) -> dict[str, t.Any]:
        """The adapted schema, built on first use and kept on the stream."""
        schema = stream.__dict__.get("_configured_schema")
        if schema is None:
            base = copy.deepcopy(super().get_stream_schema(stream, stream_class))
            schema = stream.__dict__["_configured_schema"] = stream.configure_schema(base)
        return schema
