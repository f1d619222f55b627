"""The account's lists: memberships, tags, custom statuses, deleted tickets, custom field
definitions, and the business rules (macros, views, triggers, automations, SLA policies,
schedules).

Each stream emits exactly the emulator's objects, key for key, following every cursor page
where the endpoint pages; each record is valid against the SCHEMA the tap sent; the
plan-gated lists are skipped with a warning on a 403 and the sync goes on.
"""

from __future__ import annotations

import math
from collections import Counter

from tests.emulator.admin import UNPAGED
from tests.support.schemas import assert_valid_against_the_schemas_sent
from tests.support.tap import catalog_for, config_for

# Served by the emulator's account lists (tests/emulator/admin.py).
LISTS = (
    "group_memberships",
    "organization_memberships",
    "tags",
    "custom_statuses",
    "deleted_tickets",
    "macros",
    "views",
    "triggers",
    "automations",
    "sla_policies",
    "schedules",
)
FIELDS = ("user_fields", "organization_fields")
PLAN_GATED = ("sla_policies", "schedules")
# Small enough that every paged list spans at least two pages.
PAGE = 3


def _by_key(stream: str, records: list[dict]) -> dict:
    key = "name" if stream == "tags" else "id"
    keyed = {record[key]: record for record in records}
    assert len(keyed) == len(records), f"{stream}: a record came twice"
    return keyed


def _sync(run_tap, emulator, streams):
    config = config_for(emulator)
    return run_tap(config, catalog=catalog_for(config, streams))


def test_each_list_is_read_whole_page_by_page_into_valid_records(emulator, run_tap):
    emulator.account_lists.page_limit = PAGE

    run = _sync(run_tap, emulator, LISTS + FIELDS)

    assert run.returncode == 0, run.stderr
    for stream in LISTS + FIELDS:
        assert _by_key(stream, run.records(stream)) == _by_key(stream, _served(emulator, stream))
        assert not run.final_state["bookmarks"].get(stream), f"{stream} is full table"
    _assert_every_page_was_read(emulator)
    assert_valid_against_the_schemas_sent(run, LISTS + FIELDS)


def _served(emulator, stream: str) -> list[dict]:
    if stream in FIELDS:
        return emulator.field_definitions(stream)
    return emulator.account_lists.objects(stream)


def _assert_every_page_was_read(emulator) -> None:
    """One request per page of PAGE objects (cursor pages), or one for the unpaged lists."""
    requests = emulator.account_lists.requests
    asked = Counter(kind for kind, _ in requests)
    for stream in LISTS:
        if stream in UNPAGED:
            assert asked[stream] == 1, stream
            continue
        pages = math.ceil(len(emulator.account_lists.objects(stream)) / PAGE)
        assert pages >= 2, f"{stream} fits one page: the test no longer pages it"
        assert asked[stream] == pages, stream
    assert all("page[size]" in query for kind, query in requests if kind not in UNPAGED)


def test_plan_gated_lists_are_skipped_on_403_and_the_sync_goes_on(emulator, run_tap):
    emulator.configure(forbidden_paths=["/api/v2/slas/policies", "/api/v2/business_hours"])

    run = _sync(run_tap, emulator, [*PLAN_GATED, "macros"])

    assert run.returncode == 0, run.stderr
    for stream in PLAN_GATED:
        assert run.records(stream) == []
        assert f"Skipping stream '{stream}'" in run.stderr
    assert "SLA policies need an admin on a plan with SLAs" in run.stderr
    assert len(run.records("macros")) == len(emulator.account_lists.objects("macros"))
