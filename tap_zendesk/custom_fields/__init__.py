"""Typed columns for custom fields: one column per active ticket, user or organization field.

Zendesk keeps custom field values in one polymorphic place per object: a ticket's
`custom_fields` list of `{id, value}`, a user's `user_fields` and an organization's
`organization_fields` objects keyed by the field's `key`. A warehouse wants one typed column
per field, so with `typed_custom_fields` (on by default; off with `legacy_schema`) each active
custom field also gets its own column. The original `custom_fields`, `user_fields` and
`organization_fields` are emitted unchanged.

- `columns`: which fields get a column, its name and its type.
- `values`: raw values converted to their column's type.
- `stream`: the `TypedCustomFields` stream mixin, and the field definitions it reads.
"""

from tap_zendesk.custom_fields.columns import (
    ORGANIZATION_FIELDS,
    TICKET_FIELDS,
    USER_FIELDS,
    FieldSource,
    TypedColumn,
    typed_columns,
)
from tap_zendesk.custom_fields.stream import TypedCustomFields
from tap_zendesk.custom_fields.values import to_number

__all__ = [
    "ORGANIZATION_FIELDS",
    "TICKET_FIELDS",
    "USER_FIELDS",
    "FieldSource",
    "TypedColumn",
    "TypedCustomFields",
    "to_number",
    "typed_columns",
]
