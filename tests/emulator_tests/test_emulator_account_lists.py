"""The emulator's account lists (tests/emulator/admin.py, rules.py) join the rest of its data
and page the way Zendesk documents: the tap tests can trust them as ground truth.
"""

from __future__ import annotations

import pytest

from tests.emulator.admin import RATING_FILTER_FIELDS, ROUTES, UNPAGED
from tests.emulator.dataset import parse_iso

PATHS = {kind: f"{path}.json" for path, kind in ROUTES.items()}


def _get(emu, http, kind: str, **params) -> dict:
    response = http.get(emu.url + PATHS[kind], params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_ids_join_the_rest_of_the_account(emu) -> None:
    lists, dataset = emu.account_lists, emu.dataset
    users = {u["id"]: u for u in dataset.visible("users")}
    tickets = {t["id"]: t for t in dataset.visible("tickets")}
    groups = {g["id"] for g in dataset.groups()}
    for membership in lists.objects("group_memberships"):
        assert users[membership["user_id"]]["role"] != "end-user"
        assert membership["group_id"] in groups
    for membership in lists.objects("organization_memberships"):
        assert membership["organization_id"] in set(dataset.ids("organizations"))
        assert membership["user_id"] in users
    rated = {
        t["satisfaction_rating"]["id"]: t
        for t in tickets.values()
        if t["satisfaction_rating"] and "id" in t["satisfaction_rating"]
    }
    ratings = {r["id"]: r for r in lists.objects("satisfaction_ratings")}
    assert ratings.keys() == rated.keys()
    assert all(ratings[i]["ticket_id"] == rated[i]["id"] for i in ratings)
    deleted = {t["id"] for t in tickets.values() if t["status"] == "deleted"}
    assert {t["id"] for t in lists.objects("deleted_tickets")} == deleted
    statuses = {t["custom_status_id"] for t in tickets.values()}
    assert statuses <= {s["id"] for s in lists.objects("custom_statuses")}


def test_rules_name_the_triggers_and_sla_policies_the_activity_uses(emu) -> None:
    notified_by = {
        child["via"]["source"]["from"]["id"]
        for audit in emu.dataset.audits()
        for child in audit["events"]
        if child["type"] == "Notification"
    }
    applied = {
        event["sla"]["policy"]["id"]
        for event in emu.dataset.metric_events()
        if event["type"] == "apply_sla"
    }
    assert notified_by <= {t["id"] for t in emu.account_lists.objects("triggers")}
    assert applied == {p["id"] for p in emu.account_lists.objects("sla_policies")}


def test_cursor_lists_page_by_page_and_unpaged_lists_come_whole(emu, http) -> None:
    emu.account_lists.page_limit = 4
    names, query = [], {"page[size]": 100}
    while True:
        page = _get(emu, http, "tags", **query)
        names += [tag["name"] for tag in page["tags"]]
        assert len(page["tags"]) <= 4
        if not page["meta"]["has_more"]:
            break
        query = {"page[size]": 100, "page[after]": page["meta"]["after_cursor"]}
    tags = emu.account_lists.objects("tags")
    assert names == [tag["name"] for tag in tags]
    assert [t["count"] for t in tags] == sorted((t["count"] for t in tags), reverse=True)
    for kind in UNPAGED:
        body = _get(emu, http, kind)
        assert len(body[kind]) == len(emu.account_lists.objects(kind))
        assert "meta" not in body


@pytest.mark.parametrize("field", RATING_FILTER_FIELDS)
def test_satisfaction_ratings_filter_on_start_time_inclusively(emu, http, field) -> None:
    emu.account_lists.ratings_filter_on = field
    ratings = sorted(emu.account_lists.objects("satisfaction_ratings"), key=lambda r: r["id"])
    start = parse_iso(ratings[len(ratings) // 2][field])

    body = _get(emu, http, "satisfaction_ratings", start_time=start, **{"page[size]": 100})

    assert {r["id"] for r in body["satisfaction_ratings"]} == {
        r["id"] for r in ratings if parse_iso(r[field]) >= start
    }
    assert f"start_time={start}" in body["links"]["next"]
    bad = http.get(emu.url + PATHS["satisfaction_ratings"], params={"start_time": "yesterday"})
    assert bad.status_code == 400
    assert bad.json()["error"] == "InvalidValue"


def test_the_filter_field_decides_whether_an_older_rating_changed_since_is_listed(
    emu, http
) -> None:
    changed = emu.account_lists.rescore(1)[0]
    rating = {r["id"]: r for r in emu.account_lists.objects("satisfaction_ratings")}[changed]
    since = parse_iso(rating["created_at"]) + 1

    listed = {}
    for field in RATING_FILTER_FIELDS:
        emu.account_lists.ratings_filter_on = field
        body = _get(emu, http, "satisfaction_ratings", start_time=since, **{"page[size]": 100})
        listed[field] = changed in {r["id"] for r in body["satisfaction_ratings"]}

    assert listed == {"created_at": False, "updated_at": True}


def test_a_new_rating_is_created_and_scored_after_every_other(emu) -> None:
    before = emu.account_lists.objects("satisfaction_ratings")
    latest = max(parse_iso(r["updated_at"]) for r in before)

    added = emu.account_lists.rate(2)

    after = {r["id"]: r for r in emu.account_lists.objects("satisfaction_ratings")}
    assert len(after) == len(before) + 2
    for rid in added:
        assert after[rid]["created_at"] == after[rid]["updated_at"]
        assert parse_iso(after[rid]["created_at"]) > latest


def test_a_rescored_rating_keeps_its_id_and_creation_and_moves_its_update(emu) -> None:
    before = {r["id"]: r for r in emu.account_lists.objects("satisfaction_ratings")}
    latest = max(parse_iso(r["updated_at"]) for r in before.values())

    changed = emu.account_lists.rescore(3)

    after = {r["id"]: r for r in emu.account_lists.objects("satisfaction_ratings")}
    assert after.keys() == before.keys()
    for rid in changed:
        old, new = before[rid], after[rid]
        assert new["created_at"] == old["created_at"]
        assert parse_iso(new["updated_at"]) > latest
        assert new["score"] != old["score"]
        assert ("reason" in new) == (new["score"] == "bad")
    assert all(after[i] == before[i] for i in before.keys() - set(changed))


def test_an_account_on_the_new_csat_lists_no_ratings(emu, http) -> None:
    emu.account_lists.csat = "new"

    body = _get(emu, http, "satisfaction_ratings", **{"page[size]": 100})

    assert body["satisfaction_ratings"] == []
    assert body["meta"]["has_more"] is False
