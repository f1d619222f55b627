"""Custom field values converted to their column's type, or found not to fit it.

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

import datetime as dt
import re
import typing as t

Convert = t.Callable[[t.Any], t.Any]

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
