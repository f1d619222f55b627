"""Search queries without a run: the query sent for each result type, the rate-limit bucket,
and the schema of a query returning several types.

The search streams against the emulator are tests/streams/test_search.py.
"""

from __future__ import annotations

from tap_zendesk.api.ratelimit import SEARCH, buckets_of
from tap_zendesk.streams.search_plan import SearchPlan, merge_schemas

EXPORT = "/api/v2/search/export.json"


def test_type_terms_are_taken_out_of_the_export_query():
    plan = SearchPlan.of('type:ticket status:open "type:user here" order_by:created sort:asc')

    assert plan.types == ("ticket",)
    assert plan.export_query("ticket") == 'status:open "type:user here"'
    assert SearchPlan.of("type:ticket").export_query("ticket") == "type:ticket"
    assert SearchPlan.of("-type:user vip").types == ("ticket", "organization")
    assert SearchPlan.of("type:group").unsupported == ("group",)


def test_only_the_search_export_draws_on_the_search_rate_limit():
    assert SEARCH in buckets_of(f"/api/v2{EXPORT.removeprefix('/api/v2')}")
    assert SEARCH not in buckets_of("/api/v2/search.json")
    assert SEARCH not in buckets_of("/api/v2/search/count.json")


def test_conflicting_property_types_are_widened_or_offered_as_alternatives():
    left = {
        "type": "object",
        "properties": {"a": {"type": ["string", "null"]}, "b": {"type": "integer"}},
    }
    right = {
        "type": "object",
        "properties": {
            "a": {"type": ["integer", "null"]},
            "b": {"type": ["string", "null"], "format": "date-time"},
            "c": {"type": ["boolean", "null"]},
        },
    }

    merged = merge_schemas(left, right)["properties"]

    assert merged["a"] == {"type": ["string", "integer", "null"]}
    assert merged["b"] == {"anyOf": [left["properties"]["b"], right["properties"]["b"]]}
    assert merged["c"] == right["properties"]["c"]
