"""Typed columns for custom fields: one column per active ticket, user or organization field.

Zendesk keeps custom field values in one polymorphic place per object: a ticket's
`custom_fields` list of `{id, value}`, a user's `user_fields` and an organization's
`organization_fields` objects keyed by the field's `key`. A warehouse wants one typed column
per field, so with `typed_custom_fields` (on by default; off with `legacy_schema`) each active
custom field also gets its own column. The original `custom_fields`, `user_fields` and
`organization_fields` are emitted unchanged.

Where the columns come from: when a stream's schema is first built, the field definitions
are read from `/api/v2/ticket_fields.json`, `/api/v2/user_fields.json` and
`/api/v2/organization_fields.json` (cursor pages), each at most once per run and shared by
every stream that needs it. A run given a catalog keeps exactly the typed columns that
catalog has, with the types it declares: a field created after discovery gets no column
until the next discovery, and a column whose field is gone stays null. A definitions
endpoint that answers 403 or 404 (user and organization fields are plan-gated) gives that
stream no typed columns, with one warning; the sync goes on.

Names stay the same when a field is renamed, because they never come from its title:

- tickets: `cf_<field id>`, e.g. `cf_360001234567`;
- users and organizations: `cf_<field key>`, the key lower-cased and every character other
  than a-z, 0-9 and `_` replaced by `_`, e.g. key `CostCenter` -> `cf_costcenter`.

When two fields would get the same name (keys `plan-tier` and `plan_tier`), or a name is
already a property of the stream, the field created later (higher id) gets `_<field id>`
appended: `cf_plan_tier_360009876543`. Inactive fields take part in this, so reactivating
one never renames another.

Types (every column is nullable; ticket system fields such as subject, status, priority or
group get no column):

| field type                                                 | column type          |
|------------------------------------------------------------|----------------------|
| text, textarea, regexp, partialcreditcard, tagger/dropdown | string               |
| integer                                                    | integer              |
| decimal                                                    | number               |
| checkbox                                                   | boolean              |
| date                                                       | string, format date  |
| multiselect                                                | array of strings     |
| lookup                                                     | integer (*)          |
| any other type                                             | string               |

(*) string for lookups of custom objects, whose record ids are strings.

A value that does not have its column's type is converted when nothing is lost: `"42"` to
42 and `"1.5"` or `"1,5"` to 1.5 (Zendesk's number validation accepts a comma), `"true"` and
`"false"` to booleans, a date-time to its date (`2012-07-23T00:00:00Z` -> `2012-07-23`),
numbers and booleans to text, one tag to a one-element list, an empty string to null.
Anything else (`"n/a"` in an integer field) leaves the typed column null: the record is
still emitted, the raw value stays in `custom_fields` / `user_fields` /
`organization_fields`, and one warning per field per run names the field and shows an
example value. Keeping such a value as a string in the typed column would need the column
typed `[integer, string, null]`, which strict targets turn into a text column for every row.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import re
import typing as t
from functools import cached_property

from tap_zendesk.api.errors import ClientError
from tap_zendesk.api.pagination import CursorPages, Record
from tap_zendesk.streams.base import ZendeskStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

COLUMN_PREFIX = "cf_"
# Ticket fields Zendesk ships with every account; they are columns of the ticket already.
TICKET_SYSTEM_TYPES = frozenset(
    {
        "subject",
        "description",
        "status",
        "custom_status",
        "tickettype",
        "priority",
        "group",
        "assignee",
        "requester",
        "brand",
        "ticket_form",
    }
)

Convert = t.Callable[[t.Any], t.Any]


@dataclasses.dataclass(frozen=True)
class FieldSource:
    """One object kind's custom fields: where they are defined and where records keep them."""

    kind: str
    path: str
    records_key: str
    values_key: str
    # Tickets keep values in a list of {id, value}; users and organizations by field key.
    by_id: bool

    def column_base(self, field: Record) -> str:
        """The column a field gets unless another field or property already has that name."""
        key = field.get("key")
        if self.by_id or not isinstance(key, str) or not key:
            return f"{COLUMN_PREFIX}{field['id']}"
        return COLUMN_PREFIX + _NOT_NAME.sub("_", key.lower())

    def source_of(self, field: Record) -> t.Any:
        """Where a record keeps this field's value: its id or its key."""
        return field["id"] if self.by_id else field.get("key")

    def is_custom(self, field: Record) -> bool:
        """Whether a definition is an account's own field (system fields get no column)."""
        if field.get("system") is True or field.get("removable") is False:
            return False
        return not (self.by_id and field.get("type") in TICKET_SYSTEM_TYPES)


TICKET_FIELDS = FieldSource("ticket", "/ticket_fields.json", "ticket_fields", "custom_fields", True)
USER_FIELDS = FieldSource("user", "/user_fields.json", "user_fields", "user_fields", False)
ORGANIZATION_FIELDS = FieldSource(
    "organization",
    "/organization_fields.json",
    "organization_fields",
    "organization_fields",
    False,
)

_NOT_NAME = re.compile(r"[^a-z0-9_]")


@dataclasses.dataclass(frozen=True)
class TypedColumn:
    """One custom field's column: where its value comes from, its name and its schema."""

    source: t.Any
    column: str
    schema: dict[str, t.Any]
    label: str


def typed_columns(
    source: FieldSource, fields: t.Iterable[Record], taken: t.Collection[str]
) -> list[TypedColumn]:
    """The columns of the active custom fields among `fields`, none named as in `taken`."""
    used = set(taken)
    columns = []
    # By id: the field created first keeps the plain name when two would share it.
    for field in sorted((f for f in fields if isinstance(f.get("id"), int)), key=_field_id):
        if not source.is_custom(field):
            continue
        if source.source_of(field) is None:
            continue
        column = source.column_base(field)
        if column in used:
            column = f"{column}_{field['id']}"
        used.add(column)
        if field.get("active", True) is not True:
            continue
        kind = str(field.get("type"))
        label = f'{source.kind} field {field["id"]} "{field.get("title")}" ({kind})'
        schema = {
            **column_schema(field),
            "description": f"Typed value of {label}; the raw value is in {source.values_key}.",
        }
        columns.append(TypedColumn(source.source_of(field), column, schema, label))
    return columns


def _field_id(field: Record) -> int:
    return field["id"]


def column_schema(field: Record) -> dict[str, t.Any]:
    """The JSON schema of a field's column, from its Zendesk type."""
    kind = field.get("type")
    if kind == "lookup":
        target = str(field.get("relationship_target_type") or "")
        schema = _STRING if target.startswith("zen:custom_object") else _INTEGER
    else:
        schema = _COLUMN_TYPES.get(kind, _STRING)
    return copy.deepcopy(schema)


_STRING: dict[str, t.Any] = {"type": ["string", "null"]}
_INTEGER: dict[str, t.Any] = {"type": ["integer", "null"]}
_COLUMN_TYPES: dict[str, dict[str, t.Any]] = {
    "integer": _INTEGER,
    "decimal": {"type": ["number", "null"]},
    "checkbox": {"type": ["boolean", "null"]},
    "date": {"type": ["string", "null"], "format": "date"},
    "multiselect": {"type": ["array", "null"], "items": {"type": "string"}},
}


# Values ---------------------------------------------------------------------------------

# What a converter returns for a value it cannot turn into its type without loss.
MISFIT: t.Any = object()

_INTEGER_TEXT = re.compile(r"[+-]?\d+")
_DECIMAL_TEXT = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)")
# A date, or a date-time whose date part is kept.
_DATE_TEXT = re.compile(
    r"(\d{4}-\d{2}-\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)


def to_string(value: t.Any) -> t.Any:
    """Text as is; numbers and booleans as their JSON text."""
    kind = type(value)
    if kind is str:
        return value
    if kind is bool:
        return "true" if value else "false"
    if kind is int or kind is float:
        return str(value)
    return MISFIT


def to_integer(value: t.Any) -> t.Any:
    """Integers, whole floats and integer text."""
    kind = type(value)
    if kind is int:
        return value
    if kind is float and value.is_integer():
        return int(value)
    if kind is str:
        text = value.strip()
        if _INTEGER_TEXT.fullmatch(text):
            return int(text)
        if not text:
            return None
    return MISFIT


def to_number(value: t.Any) -> t.Any:
    """Numbers and decimal text (with a point or a comma)."""
    kind = type(value)
    if kind is int or kind is float:
        return value
    if kind is str:
        text = value.strip()
        if _INTEGER_TEXT.fullmatch(text):
            return int(text)
        if _DECIMAL_TEXT.fullmatch(text):
            return float(text.replace(",", "."))
        if not text:
            return None
    return MISFIT


def to_boolean(value: t.Any) -> t.Any:
    """Booleans and the text true/false."""
    if type(value) is bool:
        return value
    if type(value) is str:
        text = value.strip().lower()
        if text in {"true", "false"}:
            return text == "true"
        if not text:
            return None
    return MISFIT


def to_date(value: t.Any) -> t.Any:
    """`YYYY-MM-DD`, from a date or the date part of a date-time."""
    if type(value) is str:
        text = value.strip()
        match = _DATE_TEXT.fullmatch(text)
        if match:
            try:
                dt.date.fromisoformat(match[1])
            except ValueError:
                return MISFIT
            return match[1]
        if not text:
            return None
    return MISFIT


def to_strings(value: t.Any) -> t.Any:
    """A list of tags; one tag becomes a list of one."""
    if type(value) is list:
        if all(type(item) is str for item in value):
            return value
        items = [to_string(item) for item in value]
        return MISFIT if any(item is MISFIT for item in items) else items
    if type(value) is str:
        return [value] if value.strip() else None
    return MISFIT


def converter_for(schema: t.Mapping[str, t.Any]) -> Convert:
    """What turns a raw value into the type a column's schema declares."""
    declared = schema.get("type") or ()
    types = {declared} if isinstance(declared, str) else set(declared)
    for name, convert in (
        ("integer", to_integer),
        ("number", to_number),
        ("boolean", to_boolean),
        ("array", to_strings),
    ):
        if name in types:
            return convert
    if "string" in types:
        return to_date if schema.get("format") == "date" else to_string
    return _unchanged


def _unchanged(value: t.Any) -> t.Any:
    return value


# Python types a converter returns unchanged: values of these skip the call (per record, per
# field, this is most of the cost). Lists and dates are always checked.
_PASSES: dict[Convert, tuple[type, ...]] = {
    to_string: (str,),
    to_integer: (int,),
    to_number: (int, float),
    to_boolean: (bool,),
}


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
    """Adds a typed column per active custom field of `custom_field_source` (see the module).

    Composes with other schema and record hooks: `configure_schema` and `post_process` call
    the next class's first.
    """

    custom_field_source: t.ClassVar[FieldSource]
    # Set when the schema is built: the typed columns it got.
    _typed_columns: tuple[TypedColumn, ...] = ()

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
