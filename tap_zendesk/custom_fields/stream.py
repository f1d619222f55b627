"""`TypedCustomFields`: the stream mixin adding typed custom field columns to its records.

Where the columns come from: when a stream's schema is first built, the field definitions
are read from `/api/v2/ticket_fields.json`, `/api/v2/user_fields.json` and
`/api/v2/organization_fields.json` (cursor pages), each at most once per run and shared by
every stream that needs it. A run given a catalog keeps exactly the typed columns that
catalog has, with the types it declares: a field created after discovery gets no column
until the next discovery, and a column whose field is gone stays null. A definitions
endpoint that answers 403 or 404 (user and organization fields are plan-gated) gives that
stream no typed columns, with one warning; the sync goes on.
"""

from __future__ import annotations

import dataclasses
import typing as t
from functools import cached_property

from typing_extensions import override

from tap_zendesk.api.errors import ClientError
from tap_zendesk.api.pagination import CursorPages, Record
from tap_zendesk.custom_fields.columns import (
    COLUMN_PREFIX,
    FieldSource,
    TypedColumn,
    typed_columns,
)
from tap_zendesk.custom_fields.values import _PASSES, MISFIT, Convert, converter_for
from tap_zendesk.streams.base import ZendeskStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


# Definitions ----------------------------------------------------------------------------


def field_definitions(stream: ZendeskStream, source: FieldSource) -> list[Record] | None:
    """Every field definition of `source`, read once per run (per tap) and then shared;
    None when Zendesk refuses them (403/404), which is warned about once."""
    cache = stream.run.field_definitions
    if source.path not in cache:
        cache[source.path] = _read_definitions(stream, source)
    return cache[source.path]


def _read_definitions(stream: ZendeskStream, source: FieldSource) -> list[Record] | None:
    try:
        return stream.read_whole(source.path, {}, CursorPages(source.records_key))
    except ClientError as exc:
        if exc.status not in {403, 404}:
            raise
        stream.logger.warning(
            "%s: no typed custom-field columns: Zendesk answered %d for %s (the account's "
            "plan or the user's role lacks %s fields); the values stay in %s",
            stream.name,
            exc.status,
            source.path,
            source.kind,
            source.values_key,
        )
        return None


# The stream hook ------------------------------------------------------------------------


class TypedCustomFields(ZendeskStream):
    """Adds a typed column per active custom field of `custom_field_source` (see the package).

    Composes with other schema and record hooks: `configure_schema` and `post_process` call
    the next class's first.
    """

    custom_field_source: t.ClassVar[FieldSource]
    # Set when the schema is built: the typed columns it got.
    _typed_columns: tuple[TypedColumn, ...] = ()

    @override
    def configure_schema(self, schema: dict[str, t.Any]) -> dict[str, t.Any]:
        """The schema plus one typed column per active custom field (or per catalog column)."""
        schema = super().configure_schema(schema)
        settings = self.settings
        if not settings.typed_custom_fields or settings.legacy_schema:
            return schema
        catalogued = self._catalogued_columns()
        if catalogued is not None and not catalogued:
            return schema  # the catalog has none: no need to ask Zendesk
        fields = field_definitions(self, self.custom_field_source)
        if fields is None:
            return schema
        properties = schema["properties"]
        columns = typed_columns(self.custom_field_source, fields, properties.keys())
        if catalogued is not None:
            columns = [
                dataclasses.replace(column, schema=catalogued[column.column])
                for column in columns
                if column.column in catalogued
            ]
        for column in columns:
            properties[column.column] = column.schema
        self._typed_columns = tuple(columns)
        return schema

    def _catalogued_columns(self) -> dict[str, dict[str, t.Any]] | None:
        """The typed columns of this stream's entry in the input catalog; None without one."""
        catalog = self.tap.input_catalog
        entry = catalog.get_stream(self.name) if catalog is not None else None
        if entry is None:
            return None
        properties = entry.schema.to_dict().get("properties") or {}
        return {
            name: schema
            for name, schema in properties.items()
            if name.startswith(COLUMN_PREFIX) and isinstance(schema, dict)
        }

    @override
    def post_process(self, row: Record, context: Context | None = None) -> Record | None:
        """Fill the record's typed columns from its raw custom field values."""
        row = super().post_process(row, context)
        plan = self._typed_plan
        if row is None or not plan:
            return row
        raw = row.get(self.custom_field_source.values_key)
        if self.custom_field_source.by_id:
            values = (
                {item.get("id"): item.get("value") for item in raw if type(item) is dict}
                if type(raw) is list
                else {}
            )
        else:
            values = raw if type(raw) is dict else {}
        for source, column, passes, convert in plan:
            value = values.get(source)
            if value is not None and type(value) not in passes:
                value = convert(value)
                if value is MISFIT:
                    self._misfit(column, values[source])
                    value = None
            row[column] = value
        return row

    @cached_property
    def _typed_plan(self) -> tuple[tuple[t.Any, str, tuple[type, ...], Convert], ...]:
        """(source, column, types passed as they are, converter) of each selected column."""
        if not self.selected:
            return ()  # read only for a stream fed from it: its records are not emitted
        self.schema  # noqa: B018 - building the schema finds the typed columns
        plan = []
        for column in self._typed_columns:
            if self.mask.get(("properties", column.column), True):
                convert = converter_for(column.schema)
                plan.append((column.source, column.column, _PASSES.get(convert, ()), convert))
        return tuple(plan)

    @cached_property
    def _misfits_warned(self) -> set[str]:
        return set()

    def _misfit(self, column: str, value: t.Any) -> None:
        """Warn once per column that a value did not fit its type."""
        if column in self._misfits_warned:
            return
        self._misfits_warned.add(column)
        label = next(c.label for c in self._typed_columns if c.column == column)
        shown = repr(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        self.logger.warning(
            "%s: %s has values that do not fit column %s, e.g. %s: the column is null for "
            "them and the value stays in %s (one warning per field and run)",
            self.name,
            label,
            column,
            shown,
            self.custom_field_source.values_key,
        )
