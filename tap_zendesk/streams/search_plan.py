"""What a configured search asks for (`SearchPlan`) and the schema of its results: the
schemas of its result types merged (`merge_schemas`), with `result_type`.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import re
import typing as t

from singer_sdk.schema.source import SchemaSource
from typing_extensions import override

from tap_zendesk.config.settings import PER_TICKET_SIDELOADS
from tap_zendesk.schemas import SCHEMAS

# The result types a search stream extracts, each with the stream whose schema it has.
RESULT_SCHEMAS = {"ticket": "tickets", "user": "users", "organization": "organizations"}

# A term is a run of non-space characters and "quoted phrases" (an unclosed quote runs to
# the end, as Zendesk reads it).
_TERM = re.compile(r'(?:"[^"]*"?|[^\s"])+')
_TYPE_TERM = re.compile(r'(-?)type:"?([^"]*)"?', re.IGNORECASE)
_SORT_TERM = re.compile(r"-?(?:order_by|sort):", re.IGNORECASE)


# The query --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SearchPlan:
    """What a query asks for, as the two search endpoints need it."""

    query: str
    # Result types to read, in a fixed order; empty when the query names only other types.
    types: tuple[str, ...]
    # Types the query names that search streams do not extract (group, article, ...).
    unsupported: tuple[str, ...]
    # The query without its type:, order_by: and sort: terms, for the export.
    export_terms: str

    @classmethod
    def of(cls, query: str) -> SearchPlan:
        """Split `query` into its type terms and the rest."""
        chosen: list[str] = []
        excluded: set[str] = set()
        rest: list[str] = []
        for term in _TERM.findall(query):
            match = _TYPE_TERM.fullmatch(term)
            if match is None:
                if not _SORT_TERM.match(term):
                    rest.append(term)
            elif match[1]:
                excluded.add(match[2].lower())
            else:
                chosen.append(match[2].lower())
        types = tuple(
            kind
            for kind in RESULT_SCHEMAS
            if kind not in excluded and (not chosen or kind in chosen)
        )
        unsupported = tuple(dict.fromkeys(kind for kind in chosen if kind not in RESULT_SCHEMAS))
        return cls(query, types, unsupported, " ".join(rest))

    @property
    def schema_types(self) -> tuple[str, ...]:
        """The types whose schemas the stream's schema is made of."""
        return self.types or tuple(RESULT_SCHEMAS)

    @property
    def mixed(self) -> bool:
        """Whether results of several types share the stream."""
        return len(self.schema_types) > 1

    def export_query(self, result_type: str) -> str:
        """The export's query text; a bare `type:x` query is sent as is (it is the filter)."""
        return self.export_terms or f"type:{result_type}"


# Schemas ----------------------------------------------------------------------------------


class SearchResultSchemas(SchemaSource[tuple[str, ...]]):
    """The schema of the results of some types: theirs, merged, with `result_type`."""

    @override
    def fetch_schema(self, key: tuple[str, ...]) -> dict[str, t.Any]:
        """Merge the schemas of the result types in `key`."""
        parts = [SCHEMAS.get_schema(RESULT_SCHEMAS[result_type]) for result_type in key]
        merged = copy.deepcopy(functools.reduce(merge_schemas, parts))
        # Search results carry no side-loads: the ticket export's side-load columns go.
        for name in PER_TICKET_SIDELOADS.values():
            merged["properties"].pop(name, None)
        result_type = {
            "description": "What the result is: " + ", ".join(key) + ".",
            "type": "string",
        }
        return {**merged, "properties": {"result_type": result_type, **merged["properties"]}}


SEARCH_SCHEMAS = SearchResultSchemas()
_SHAPE_KEYS = frozenset({"type", "format", "properties", "items", "additionalProperties"})


def merge_schemas(a: dict[str, t.Any], b: dict[str, t.Any]) -> dict[str, t.Any]:
    """A schema that accepts what `a` and what `b` accept.

    Objects merge property by property; plain schemas of the same format widen their type
    list; anything else becomes `anyOf` the two. Differing descriptions are dropped.
    """
    if a == b:
        return a
    if a.get("description") != b.get("description"):
        a = {k: v for k, v in a.items() if k != "description"}
        b = {k: v for k, v in b.items() if k != "description"}
        if a == b:
            return a
    if not (a.keys() | b.keys()) <= _SHAPE_KEYS or a.get("format") != b.get("format"):
        left = _alternatives(a)
        return {"anyOf": left + [schema for schema in _alternatives(b) if schema not in left]}
    types = _types(a) + [kind for kind in _types(b) if kind not in _types(a)]
    if "null" in types:  # nullable last, as in every schema file
        types = [*(kind for kind in types if kind != "null"), "null"]
    merged: dict[str, t.Any] = {"type": types[0] if len(types) == 1 else types}
    if "format" in a:
        merged["format"] = a["format"]
    if "properties" in a or "properties" in b:
        properties = dict(a.get("properties", {}))
        for name, schema in b.get("properties", {}).items():
            properties[name] = merge_schemas(properties.get(name, schema), schema)
        merged["properties"] = properties
    for key in ("items", "additionalProperties"):
        if key in a and key in b:
            left, right = a[key], b[key]
            both_schemas = isinstance(left, dict) and isinstance(right, dict)
            merged[key] = merge_schemas(left, right) if both_schemas else left or right
        elif key in a or key in b:
            merged[key] = a.get(key, b.get(key))
    return merged


def _types(schema: dict[str, t.Any]) -> list[str]:
    declared = schema.get("type", [])
    return [declared] if isinstance(declared, str) else list(declared)


def _alternatives(schema: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    return list(schema["anyOf"]) if set(schema) == {"anyOf"} else [schema]
