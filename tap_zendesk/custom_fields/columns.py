"""Custom field columns: which fields get one, the column's name and its JSON schema.

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
"""

from __future__ import annotations

import copy
import dataclasses
import re
import typing as t

from tap_zendesk.api.pagination import Record

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
