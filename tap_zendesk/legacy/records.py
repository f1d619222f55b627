"""Records given the shape of the emitted legacy schema (`record_shaper`).

Records are shaped by the emitted schema itself, so they always match it:
undeclared keys are dropped at every depth, a property we lack is null, and a value whose type
the schema does not allow is converted the way the incumbent's singer-python transformer
converts it (an integer where text is declared becomes its digits, `True` becomes "True";
objects and arrays become JSON text), or is null with a warning if it cannot be.
"""

from __future__ import annotations

import json
import typing as t

Record = dict[str, t.Any]
Schema = dict[str, t.Any]
Shaper = t.Callable[[t.Any], t.Any]


def record_shaper(schema: Schema, warn: t.Callable[[str, t.Any], None]) -> Shaper:
    """Shape whole records: every top-level property present (null when we lack it)."""
    shape = _shaper(schema, "$", warn)
    names = tuple(schema.get("properties") or ())

    def shape_record(record: Record) -> Record:
        shaped = shape(record)
        for name in names:
            shaped.setdefault(name, None)
        return shaped

    return shape_record


def _shaper(schema: Schema, path: str, warn: t.Callable[[str, t.Any], None]) -> Shaper:
    """A function that fits one value to `schema`, compiled once per emitted schema."""
    types = schema.get("type")
    if types is None:
        return _as_is
    types = (types,) if isinstance(types, str) else tuple(types)
    declared = schema.get("properties")
    props = (
        {name: _shaper(sub, f"{path}.{name}", warn) for name, sub in declared.items()}
        if declared is not None
        else None
    )
    keep_others = schema.get("additionalProperties") is True
    items = _shaper(schema["items"], f"{path}[]", warn) if "items" in schema else _as_is

    def shape(value: t.Any) -> t.Any:
        if value is None:
            return None
        kind = _kind(value)
        if kind == "object" and "object" in types:
            if props is None:
                return value
            shaped = {name: props[name](sub) for name, sub in value.items() if name in props}
            if keep_others:
                shaped.update((name, sub) for name, sub in value.items() if name not in props)
            return shaped
        if kind == "array" and "array" in types:
            return [items(item) for item in value]
        if kind in types or (kind == "integer" and "number" in types):
            return value
        converted = _convert(value, types)
        if converted is None:
            warn(path, value)
        return converted

    return shape


def _as_is(value: t.Any) -> t.Any:
    return value


def _kind(value: t.Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    return "array" if isinstance(value, list) else "unknown"


def _convert(value: t.Any, types: tuple[str, ...]) -> t.Any:
    """The value as the first declared type it converts to without loss; else None.

    Text is what singer-python's str() writes, except that objects and arrays become JSON
    rather than Python's repr."""
    for kind in types:
        if kind == "string":
            return json.dumps(value) if isinstance(value, (dict, list)) else str(value)
        if kind == "integer" and isinstance(value, (str, float)) and not isinstance(value, bool):
            try:
                number = float(value)
            except ValueError:
                continue
            if number.is_integer():
                return int(number)
        if kind == "number" and isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                continue
        if kind == "boolean" and isinstance(value, str) and value.lower() in {"true", "false"}:
            return value.lower() == "true"
    return None
