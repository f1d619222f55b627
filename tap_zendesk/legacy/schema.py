"""`LegacyLayout`: a stream's incumbent layout, in a small notation, and the schema it gives.

A layout is written against our own schema, not copied from the other tap: it names the
properties to keep, in a small notation, and states a type only where the incumbent's differs
from ours made nullable.

- ``name`` keeps our property whole, every nested property and item included.
- ``name(a b c)`` keeps our property with only the listed nested properties; for an array they
  are the properties of its items, and ``[]:types`` types the items themselves.
- ``name:null|object|string`` states the JSON types exactly, in that order; ``:any`` is the
  untyped ``{}``. A property we do not have needs its types (and its nested properties).
- Other types are ours with ``null`` first, because the incumbent lets everything be null.
  A layout's `types` are those of the record itself (``null|object`` unless stated).
- A nested name our object does not list takes the schema of its open map's values
  (``flags_options(2 11)``: flags keyed by their code).
- An open map kept whole (custom field values) stays open (`additionalProperties: true`);
  every other object is closed, as the incumbent's are: undeclared keys are dropped.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import typing as t

from tap_zendesk.legacy.records import Record, Schema, _kind, record_shaper

# `:any`: the incumbent's untyped property.
ANY = "any"
_TOKENS = re.compile(r"\s*(?:(\(|\))|([\w\[\]]+)(?::([\w|]+))?)")
_KEPT_KEYWORDS = ("description", "format")


@dataclasses.dataclass(frozen=True)
class Field:
    """One property of a layout: its name, stated types and the nested properties kept."""

    name: str
    types: tuple[str, ...] | None = None
    children: tuple[Field, ...] | None = None


def parse(notation: str) -> tuple[Field, ...]:
    """The fields of a layout written in the notation of this module's docstring."""
    stack: list[list[Field]] = [[]]
    pending: list[tuple[str, tuple[str, ...] | None]] = []
    position = 0
    notation = notation.strip()
    while position < len(notation):
        match = _TOKENS.match(notation, position)
        if match is None:
            msg = f"legacy layout: cannot read {notation[position : position + 30]!r}"
            raise ValueError(msg)
        position = match.end()
        bracket, name, types = match.groups()
        if name:
            stack[-1].append(Field(name, tuple(types.split("|")) if types else None))
        elif bracket == "(":
            if not stack[-1]:
                msg = "legacy layout: '(' must follow a property name"
                raise ValueError(msg)
            parent = stack[-1].pop()
            pending.append((parent.name, parent.types))
            stack.append([])
        else:
            if not pending:
                msg = "legacy layout: unbalanced ')'"
                raise ValueError(msg)
            children = tuple(stack.pop())
            name, types = pending.pop()
            stack[-1].append(Field(name, types, children))
    if pending:
        msg = "legacy layout: unbalanced '('"
        raise ValueError(msg)
    return tuple(stack[0])


@dataclasses.dataclass(frozen=True)
class LegacyLayout:
    """How one stream looks in the incumbent tap."""

    properties: str
    key_properties: tuple[str, ...] = ("id",)
    # The types of the record itself.
    types: tuple[str, ...] = ("null", "object")
    # Values the incumbent has that we can work out from our record (before shaping).
    derive: t.Callable[[Record], Record] | None = None
    # Top-level properties whose incumbent shape is that of another of our properties, by
    # dotted path (our audits' `via` is the export's text; the incumbent's, an event's object).
    borrowed: tuple[tuple[str, str], ...] = ()

    def schema(self, ours: Schema) -> Schema:
        """The incumbent's schema of this stream, built from ours."""
        properties = dict(ours.get("properties") or {})
        for name, path in self.borrowed:
            node: Schema = ours
            for part in path.split("."):
                node = node["items"] if part == "[]" else node["properties"][part]
            properties[name] = node
        return {
            "type": list(self.types),
            "properties": _properties(
                {**ours, "properties": properties}, parse(self.properties), "$"
            ),
        }

    def record_shaper(
        self, schema: Schema, stream: str, logger: logging.Logger
    ) -> t.Callable[[Record], Record]:
        """A function giving a record of ours the shape of `schema` (the emitted one).

        A value that cannot be converted becomes null, with one warning per property.
        """
        warned: set[str] = set()

        def warn(path: str, value: t.Any) -> None:
            if path not in warned:
                warned.add(path)
                logger.warning(
                    "%s: a %s at %s does not fit the legacy schema; emitted as null",
                    stream,
                    _kind(value),
                    path,
                )

        shape = record_shaper(schema, warn)
        derive = self.derive
        if derive is None:
            return shape
        return lambda record: shape(derive(record))


# Deriving the schema ----------------------------------------------------------------------


def _properties(ours: Schema | None, fields: t.Iterable[Field], path: str) -> Schema:
    declared = (ours or {}).get("properties") or {}
    open_map = (ours or {}).get("additionalProperties")
    properties = {}
    for field in fields:
        mine = declared.get(field.name)
        if mine is None and field.types is None and isinstance(open_map, dict):
            mine = open_map
        properties[field.name] = _node(mine, field, f"{path}.{field.name}")
    return properties


def _node(ours: Schema | None, field: Field, path: str) -> Schema:
    """The incumbent's schema of one property, from ours and what the layout says of it."""
    if field.types == (ANY,):
        return {}
    if ours is None and (field.types is None or (field.children is None and _nests(field.types))):
        msg = f"legacy layout: {path} is not in our schema; state its types and properties"
        raise ValueError(msg)
    if field.children is None:
        node = _whole(ours) if ours is not None else {}
        if field.types is not None:
            node["type"] = list(field.types)
            if "array" not in field.types:
                node.pop("items", None)
            if "object" not in field.types:
                node.pop("properties", None)
                node.pop("additionalProperties", None)
        return node
    node = {key: ours[key] for key in _KEPT_KEYWORDS if ours and key in ours}
    node["type"] = list(field.types) if field.types else _nullable(ours)
    if "array" in node["type"]:
        node["items"] = _items(ours, field.children, path)
    else:
        node["properties"] = _properties(ours, field.children, path)
    return node


def _items(ours: Schema | None, children: tuple[Field, ...], path: str) -> Schema:
    """An array's items: `[]` types them, the other children are their properties."""
    mine = (ours or {}).get("items")
    stated = next((child.types for child in children if child.name == "[]"), None)
    named = [child for child in children if child.name != "[]"]
    if not named:
        return _node(mine, Field("[]", stated), f"{path}[]")
    return _node(mine, Field("[]", stated, tuple(named)), f"{path}[]")


def _nests(types: tuple[str, ...]) -> bool:
    return "object" in types or "array" in types


def _whole(ours: Schema) -> Schema:
    """Our property with every level made nullable, open maps kept open, others closed."""
    node = {key: ours[key] for key in _KEPT_KEYWORDS if key in ours}
    if "type" not in ours:
        return node
    node["type"] = _nullable(ours)
    if "properties" in ours:
        node["properties"] = {name: _whole(sub) for name, sub in ours["properties"].items()}
    elif ours.get("additionalProperties"):
        node["additionalProperties"] = True
    if isinstance(ours.get("items"), dict):
        node["items"] = _whole(ours["items"])
    return node


def _nullable(ours: Schema | None) -> list[str]:
    declared = (ours or {}).get("type", [])
    declared = [declared] if isinstance(declared, str) else declared
    return ["null", *(kind for kind in declared if kind != "null")]
