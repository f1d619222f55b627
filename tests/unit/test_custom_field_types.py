"""Typed custom-field columns without a run: column names, types and value conversions.

What a run emits with them is tests/streams/test_custom_fields.py.
"""

from __future__ import annotations

import pytest

from tap_zendesk.custom_fields import TICKET_FIELDS, USER_FIELDS, to_number, typed_columns


def test_names_that_collide_get_the_later_fields_id():
    fields = [
        {"id": 7, "key": "plan_tier", "type": "text", "active": True},
        {"id": 9, "key": "Plan-Tier", "type": "text", "active": True},
        {"id": 11, "key": "id", "type": "integer", "active": True},
    ]

    columns = typed_columns(USER_FIELDS, fields, taken={"id", "cf_id"})

    assert [c.column for c in columns] == ["cf_plan_tier", "cf_plan_tier_9", "cf_id_11"]


def test_an_inactive_field_keeps_its_name_so_reactivating_it_renames_nothing():
    fields = [
        {"id": 7, "key": "plan", "type": "text", "active": False},
        {"id": 9, "key": "PLAN", "type": "text", "active": True},
    ]

    assert [c.column for c in typed_columns(USER_FIELDS, fields, taken=())] == ["cf_plan_9"]


def test_unknown_ticket_field_types_are_text_and_system_types_are_left_out():
    fields = [
        {"id": 1, "type": "status", "removable": False, "active": True},
        {"id": 2, "type": "priority", "removable": True, "active": True},
        {"id": 3, "type": "brand_new_type", "removable": True, "active": True},
    ]

    columns = typed_columns(TICKET_FIELDS, fields, taken=())

    assert [(c.column, c.schema["type"]) for c in columns] == [("cf_3", ["string", "null"])]


@pytest.mark.parametrize(
    ("raw", "number"), [("745", 745), ("1.5", 1.5), ("1,5", 1.5), (" -2 ", -2), ("", None)]
)
def test_number_text_converts_without_loss(raw, number):
    assert to_number(raw) == number
