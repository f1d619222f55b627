"""Tests for the emulator's ticket activity and catalogue endpoints, over real HTTP.

The tap reads comments and audits in bulk from the ticket events export or per ticket, and the
two must agree; these tests pin the export chains, the per-ticket paging quirks, the shapes and
how mutations extend the activity, against what the dataset reports.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from itertools import pairwise
from typing import Any

import requests

from tests.emulator import Dataset, FaultRule
from tests.emulator.dataset import _CUSTOM_STATUS_IDS, _FORM_IDS, _TICKET_FIELDS, encode, parse_iso
from tests.emulator.listing import decode_list_cursor

EVENTS = "/api/v2/incremental/ticket_events.json"
METRICS = "/api/v2/incremental/ticket_metric_events.json"
FIELDS = "/api/v2/ticket_fields.json"
FORMS = "/api/v2/ticket_forms.json"
COMMENT_KEYS = [
    "id",
    "type",
    "author_id",
    "body",
    "html_body",
    "plain_body",
    "public",
    "attachments",
    "audit_id",
    "via",
    "created_at",
    "metadata",
]
COMMENT_CHILD_KEYS = [
    "id",
    "event_type",
    "type",
    "via",
    "via_reference_id",
    "author_id",
    "body",
    "html_body",
    "plain_body",
    "public",
    "attachments",
    "audit_id",
    "created_at",
]
ATTACHMENT_KEYS = [
    "url",
    "id",
    "file_name",
    "content_url",
    "mapped_content_url",
    "content_type",
    "size",
    "width",
    "height",
    "inline",
    "deleted",
    "malware_access_override",
    "malware_scan_result",
    "thumbnails",
]
METRIC_KEYS = ["id", "ticket_id", "metric", "instance_id", "type", "time"]
METRIC_EXTRA = {
    "apply_sla": ["sla"],
    "apply_group_sla": ["group_sla"],
    "update_status": ["status"],
    "breach": ["deleted"],
}
FIELD_KEYS = [
    "url",
    "id",
    "type",
    "title",
    "raw_title",
    "description",
    "raw_description",
    "position",
    "active",
    "required",
    "collapsed_for_agents",
    "regexp_for_validation",
    "title_in_portal",
    "raw_title_in_portal",
    "visible_in_portal",
    "editable_in_portal",
    "required_in_portal",
    "tag",
    "created_at",
    "updated_at",
    "removable",
    "key",
    "agent_description",
]
FORM_KEYS = [
    "url",
    "id",
    "name",
    "raw_name",
    "display_name",
    "raw_display_name",
    "end_user_visible",
    "position",
    "ticket_field_ids",
    "active",
    "default",
    "in_all_brands",
    "restricted_brand_ids",
    "end_user_conditions",
    "agent_conditions",
    "created_at",
    "updated_at",
]
# Ticket fields whose Create/Change events replay to the ticket's current value.
REPLAYED = (
    "subject",
    "requester_id",
    "assignee_id",
    "priority",
    "type",
    "status",
    "group_id",
    "organization_id",
    "brand_id",
    "ticket_form_id",
    "custom_status_id",
)


def _export(
    http: requests.Session, url: str, params: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Follow next_page to end_of_stream; return (items without boundary repeats, pages).

    A repeated item is allowed only in the second where the previous page ended.
    """
    pages: list[dict[str, Any]] = []
    items: dict[int, dict[str, Any]] = {}
    response = http.get(url, params=params)
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        key = next(iter(page))
        for item in page[key]:
            if item["id"] in items:
                assert _stamp(item) == pages[-1]["end_time"], "repeat outside the boundary"
                continue
            items[item["id"]] = item
        pages.append(page)
        if page["end_of_stream"]:
            return list(items.values()), pages
        assert len(pages) < 2000, "export did not terminate"
        response = http.get(page["next_page"])


def _stamp(item: dict[str, Any]) -> int:
    return item["timestamp"] if "timestamp" in item else parse_iso(item["time"])


def _event_value(value: Any) -> Any:
    """A ticket value as audits report it: ids and numbers as strings."""
    if isinstance(value, bool) or value is None or isinstance(value, str | list):
        return value
    return str(value)


def _replay(audits: list[dict[str, Any]]) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for audit in audits:
        for event in audit["events"]:
            if event["type"] in ("Create", "Change"):
                state[event["field_name"]] = event["value"]
    return state


def _assert_replays_to(ticket: dict[str, Any], audits: list[dict[str, Any]]) -> None:
    state = _replay(audits)
    for field in REPLAYED:
        assert state.get(field) == _event_value(ticket[field]), (ticket["id"], field)
    assert state.get("tags", []) == ticket["tags"]
    for custom in ticket["custom_fields"]:
        if not isinstance(custom["value"], bool):
            assert state.get(str(custom["id"])) == _event_value(custom["value"])


def _cbp(http: requests.Session, url: str, size: int, **extra: Any) -> list[dict[str, Any]]:
    """Every CBP page of a list endpoint, following links.next until has_more is false."""
    pages = [http.get(url, params={"page[size]": size, **extra}).json()]
    while pages[-1]["meta"]["has_more"]:
        assert len(pages) < 200
        pages.append(http.get(pages[-1]["links"]["next"]).json())
    return pages


# --------------------------------------------------------------------------- ticket events


def test_ticket_events_export_chains_to_every_visible_audit_once(emu, http) -> None:
    every = {"support_type_scope": "all"}
    params = {"start_time": 0, "per_page": 6, "include": "comment_events", **every}
    items, pages = _export(http, emu.url + EVENTS, params)
    truth = emu.dataset.truth("ticket_events")
    assert [(i["id"], i["timestamp"]) for i in items] == truth
    assert [i["timestamp"] for i in items] == sorted(i["timestamp"] for i in items)
    assert items == emu.dataset.ticket_events(include_comments=True)
    assert list(pages[0]) == ["ticket_events", "count", "end_of_stream", "next_page", "end_time"]
    assert all("include=comment_events" in p["next_page"] for p in pages)
    assert all("per_page=6" in p["next_page"] for p in pages)
    assert all("support_type_scope=all" in p["next_page"] for p in pages)
    # Same-second clusters are expanded past per_page and skipped with end_time = ts + 1.
    expanded = [p for p in pages if p["count"] > 6]
    assert expanded
    assert all(p["end_time"] == p["ticket_events"][0]["timestamp"] + 1 for p in expanded)
    assert pages[-1]["end_of_stream"] is True
    assert pages[-1]["next_page"]

    plain, _ = _export(http, emu.url + EVENTS, {"start_time": 0, "per_page": 50, **every})
    assert [i["id"] for i in plain] == [i["id"] for i in items]
    with_comments = {i["id"]: i for i in items}
    kinds: Counter[str] = Counter()
    for item in plain:
        full = with_comments[item["id"]]
        children = full["child_events"]
        kinds.update(c["event_type"] for c in children)
        assert item["child_events"] == [c for c in children if c["event_type"] != "Comment"]
        assert {k: v for k, v in item.items() if k != "child_events"} == {
            k: v for k, v in full.items() if k != "child_events"
        }
    assert set(kinds) == {"Create", "Change", "Comment", "Notification"}


def test_ticket_events_export_serves_ai_agent_tickets_only_when_the_scope_asks(emu, http) -> None:
    """support_type_scope on the ticket events export; the metric events export has none."""
    ai_agent = set(emu.dataset.ai_agent_ids())
    every = emu.dataset.truth("ticket_events")
    owner = {e["id"]: e["ticket_id"] for e in emu.dataset.ticket_events(include_comments=False)}
    agents = [pair for pair in every if owner[pair[0]] not in ai_agent]
    bots = [pair for pair in every if owner[pair[0]] in ai_agent]
    assert agents
    assert bots
    for scope, expected in ((None, agents), ("agent", agents), ("ai_agent", bots), ("all", every)):
        params = {"start_time": 0, "per_page": 50}
        if scope is not None:
            params["support_type_scope"] = scope
        items, _ = _export(http, emu.url + EVENTS, params)
        assert [(i["id"], i["timestamp"]) for i in items] == expected, scope
        assert emu.dataset.truth("ticket_events", scope=scope or "agent") == expected
    bad = http.get(emu.url + EVENTS, params={"start_time": 0, "support_type_scope": "everyone"})
    assert bad.status_code == 400
    assert bad.json()["error"] == "InvalidValue"

    metrics, _ = _export(http, emu.url + METRICS, {"start_time": 0})
    assert {m["ticket_id"] for m in metrics} & ai_agent


def test_ticket_events_item_and_child_shapes(emu, http) -> None:
    items, _ = _export(http, emu.url + EVENTS, {"start_time": 0, "include": "comment_events"})
    names = {"web": "Web form", "email": "Mail", "api": "API", "voice": "Voice"}
    merged = 0
    for item in items:
        keys = list(item)
        merged += "merged_ticket_ids" in keys
        assert keys == [
            "id",
            "ticket_id",
            "timestamp",
            "created_at",
            "updater_id",
            "via",
            "via_reference_id",
            "system",
            "event_type",
            *(["merged_ticket_ids"] if "merged_ticket_ids" in keys else []),
            "child_events",
        ]
        assert item.get("merged_ticket_ids", []) == []
        assert item["event_type"] == "Audit"
        assert parse_iso(item["created_at"]) == item["timestamp"]
        assert item["via"] in names.values()
        assert list(item["system"]) == ["client", "ip_address", "location", "latitude", "longitude"]
        for child in item["child_events"]:
            kind = child["event_type"]
            if kind == "Comment":
                assert list(child) == COMMENT_CHILD_KEYS
                assert names[child["via"]["channel"]] == item["via"]
                assert child["audit_id"] == item["id"]
                assert child["created_at"] == item["created_at"]
                continue
            assert child["via"] == item["via"]
            assert child["via_reference_id"] is None
            if kind == "Notification":
                assert list(child) == [
                    "id",
                    "event_type",
                    "subject",
                    "body",
                    "recipients",
                    "via",
                    "via_reference_id",
                ]
            else:
                # The field set is a key of the event itself, never field_name/value.
                keys = list(child)
                assert keys[:3] == ["id", "via", "via_reference_id"]
                change = ["previous_value"] if kind == "Change" else []
                assert keys[-1 - len(change) :] == ["event_type", *change]
                assert "field_name" not in child
                assert "value" not in child
                fields = keys[3 : -1 - len(change)]
                assert fields
                assert fields in (
                    ["tags"],
                    ["tags", "added_tags", "removed_tags"],
                    ["added_tags", "removed_tags"],
                    ["custom_ticket_fields"],
                ) or (len(fields) == 1 and fields[0] not in ("tags", "custom_ticket_fields"))
                if "custom_ticket_fields" in child:
                    assert all(key.isdigit() for key in child["custom_ticket_fields"])
                if fields == ["added_tags", "removed_tags"]:
                    assert kind == "Change"
    assert 0 < merged < len(items) / 10


def test_export_field_events_say_what_the_per_ticket_audits_say(emu) -> None:
    """The two shapes of one Create/Change event carry the same field and values."""
    audits = {
        event["id"]: event
        for audit in emu.dataset.audits()
        for event in audit["events"]
        if event["type"] in ("Create", "Change")
    }
    exported = [
        child
        for item in emu.dataset.ticket_events(include_comments=False)
        for child in item["child_events"]
        if child["event_type"] in ("Create", "Change")
    ]
    assert {child["id"] for child in exported} == set(audits)
    shapes = set()
    for child in exported:
        event = audits[child["id"]]
        assert child["event_type"] == event["type"]
        assert child.get("previous_value") == event.get("previous_value")
        if "custom_ticket_fields" in child:
            assert child["custom_ticket_fields"] == {event["field_name"]: event["value"]}
        elif "added_tags" in child:
            before, after = event["previous_value"] or [], event["value"] or []
            assert child["added_tags"] == [tag for tag in after if tag not in before]
            assert child["removed_tags"] == [tag for tag in before if tag not in after]
            assert child.get("tags", after) == after
            shapes.add("tags" in child)
        else:
            assert child[event["field_name"]] == event["value"]
    assert shapes == {True, False}, "both shapes of a tag change are served"


def test_comment_child_events_equal_the_comments_endpoint(emu, http) -> None:
    events = emu.dataset.ticket_events(include_comments=True)
    children = {
        c["id"]: (e["ticket_id"], c)
        for e in events
        for c in e["child_events"]
        if c["event_type"] == "Comment"
    }
    live = [t["id"] for t in emu.dataset.visible("tickets") if t["status"] != "deleted"]
    served: dict[int, dict[str, Any]] = {}
    for ticket_id in live:
        response = http.get(f"{emu.url}/api/v2/tickets/{ticket_id}/comments.json?page[size]=100")
        assert response.status_code == 200
        for comment in response.json()["comments"]:
            assert list(comment) == COMMENT_KEYS
            served[comment["id"]] = comment
    assert set(served) == {i for i, (tid, _) in children.items() if tid in set(live)}
    attachments = 0
    for comment_id, comment in served.items():
        _, child = children[comment_id]
        rest = {k: v for k, v in child.items() if k not in ("event_type", "via_reference_id")}
        assert rest == {k: v for k, v in comment.items() if k != "metadata"}
        assert list(comment["metadata"]) == ["system", "custom"]
        for attachment in comment["attachments"]:
            attachments += 1
            assert list(attachment) == ATTACHMENT_KEYS
            assert attachment["url"] == f"{emu.url}/api/v2/attachments/{attachment['id']}.json"
            assert attachment["content_url"].startswith(f"{emu.url}/attachments/token/")
            for thumb in attachment["thumbnails"]:
                assert thumb["id"] == attachment["id"] + 1
                assert thumb["content_url"].startswith(emu.url)
    assert attachments > 10


# --------------------------------------------------------------------------- per ticket


def test_comments_and_audits_cursor_paging_with_the_last_page_quirk(emu, http) -> None:
    live = [t for t in emu.dataset.visible("tickets") if t["status"] != "deleted"]
    ticket = next(t for t in live if len(emu.dataset.comments(t["id"])) >= 3)
    for kind, expected in (
        ("comments", emu.dataset.comments(ticket["id"])),
        ("audits", emu.dataset.audits(ticket["id"])),
    ):
        url = f"{emu.url}/api/v2/tickets/{ticket['id']}/{kind}.json"
        pages = _cbp(http, url, 1, include_inline_images="false")
        assert [p[kind][0] for p in pages] == expected
        assert all(list(p) == [kind, "meta", "links"] for p in pages)
        last = pages[-1]
        assert last["meta"]["has_more"] is False
        assert last["meta"]["after_cursor"]
        assert last["links"]["next"]
        # One item per page: the item is both ends, so the two cursors are equal (as in the
        # recorded page[size]=1 pages of zenpy's TestTicketAudits cassette).
        assert last["meta"]["after_cursor"] == last["meta"]["before_cursor"]
        assert "include_inline_images=false" in last["links"]["next"]
        assert "page%5Bsize%5D=1" in last["links"]["next"]
        key = decode_list_cursor(last["meta"]["after_cursor"], "created_at,id", 2)
        assert key == (parse_iso(expected[-1]["created_at"]), expected[-1]["id"])
        beyond = http.get(last["links"]["next"]).json()
        assert beyond[kind] == []
        assert beyond["meta"] == {"has_more": False, "after_cursor": None, "before_cursor": None}
        back = http.get(last["links"]["prev"]).json()
        assert back[kind] == [expected[-2]]
        assert back["meta"]["has_more"] is True

        whole = http.get(url, params={"page[size]": 500}).json()
        assert whole[kind] == expected
        assert "page%5Bsize%5D=100" in whole["links"]["next"]

        offset = http.get(url, params={"per_page": 1}).json()
        assert list(offset) == [kind, "next_page", "previous_page", "count"]
        assert offset["count"] == len(expected)
        assert offset["previous_page"] is None
        seen = offset[kind]
        while offset["next_page"]:
            assert "per_page=1" in offset["next_page"]
            offset = http.get(offset["next_page"]).json()
            assert offset["previous_page"]
            seen += offset[kind]
        assert seen == expected
        assert http.get(url).json() == {
            kind: expected,
            "next_page": None,
            "previous_page": None,
            "count": len(expected),
        }

        for params, title in (
            ({"page[size]": 2, "page[after]": "bm90IGEgY3Vyc29y"}, "page[after] is not valid"),
            ({"page[size]": 2, "page[before]": "%%%"}, "page[before] is not valid"),
            ({"page[size]": "lots"}, "page[size] is not valid"),
        ):
            bad = http.get(url, params=params)
            assert bad.status_code == 400
            assert bad.json() == {
                "errors": [{"code": "InvalidPaginationParameter", "title": title}]
            }
        deep = http.get(url, params={"page": 101})
        assert deep.status_code == 400
        assert deep.json()["errors"][0]["code"] == "InvalidPaginationDepth"


def test_deleted_and_unknown_tickets_answer_record_not_found(emu, http) -> None:
    tickets = emu.dataset.visible("tickets")
    deleted = [t["id"] for t in tickets if t["status"] == "deleted"]
    assert deleted
    exported = {e["ticket_id"] for e in emu.dataset.ticket_events()}
    assert set(deleted) <= exported
    for ticket_id in (deleted[0], 99):
        for kind in ("comments", "audits"):
            response = http.get(f"{emu.url}/api/v2/tickets/{ticket_id}/{kind}.json")
            assert response.status_code == 404
            assert response.json() == {"error": "RecordNotFound", "description": "Not found"}
    assert http.get(f"{emu.url}/api/v2/tickets/{deleted[0]}/likes.json").json() == {
        "error": "InvalidEndpoint",
        "description": "Not found",
    }


def test_new_endpoints_sit_behind_auth_limits_faults_and_switches(emu, http) -> None:
    ticket = next(t["id"] for t in emu.dataset.visible("tickets") if t["status"] != "deleted")
    comments = f"/api/v2/tickets/{ticket}/comments.json"
    assert requests.get(emu.url + comments).status_code == 401
    assert requests.get(emu.url + EVENTS, params={"start_time": 0}).status_code == 401

    emu.configure(export_limit=1, time_scale=30.0)
    assert http.get(emu.url + EVENTS, params={"start_time": 0}).status_code == 200
    throttled = http.get(emu.url + METRICS, params={"start_time": 0})
    assert throttled.status_code == 429
    assert throttled.json()["error"] == "APIRateLimitExceeded"
    # Only incremental exports draw on the export bucket.
    for path in (comments, FIELDS, FORMS):
        assert http.get(emu.url + path).status_code == 200
    emu.configure(export_limit=None)

    emu.add_faults(FaultRule(path_prefix=f"/api/v2/tickets/{ticket}/comments", kind="503"))
    assert http.get(emu.url + comments).status_code == 503
    assert http.get(emu.url + comments).status_code == 200
    emu.configure(forbidden_paths=[FIELDS], missing_paths=[FORMS])
    assert http.get(emu.url + FIELDS).status_code == 403
    missing = http.get(emu.url + "/api/v2/ticket_forms")
    assert (missing.status_code, missing.json()["error"]) == (404, "InvalidEndpoint")
    assert emu.config["missing_paths"] == [FORMS]
    emu.configure(forbidden_paths=[], missing_paths=[])
    assert http.get(emu.url + FORMS).status_code == 200
    stats = emu.stats
    assert stats["requests_by_path"][comments] == 4
    assert stats["faults_by_kind"] == {"503": 1}
    now = int(time.time())
    recent = http.get(emu.url + METRICS, params={"start_time": now - 10})
    assert recent.status_code == 422
    truth = requests.get(emu.url + "/__emulator/truth", params={"kind": "ticket_events"}).json()
    assert [(x["id"], x["ts"]) for x in truth["items"]] == emu.dataset.truth("ticket_events")
    emu.configure(stuck_end_time=True)
    stuck = http.get(emu.url + EVENTS, params={"start_time": 1000, "per_page": 5}).json()
    assert (stuck["end_time"], stuck["end_of_stream"], stuck["count"]) == (1000, False, 5)


# --------------------------------------------------------------------------- metric events


def test_metric_events_export_is_complete_and_time_ordered(emu, http) -> None:
    items, pages = _export(http, emu.url + METRICS, {"start_time": 0, "per_page": 10})
    assert [(i["id"], parse_iso(i["time"])) for i in items] == emu.dataset.truth(
        "ticket_metric_events"
    )
    assert items == emu.dataset.metric_events()
    times = [parse_iso(i["time"]) for i in items]
    assert times == sorted(times)
    assert list(pages[0]) == [
        "ticket_metric_events",
        "count",
        "end_of_stream",
        "next_page",
        "end_time",
    ]
    types: Counter[str] = Counter()
    by_ticket: dict[int, list[dict[str, Any]]] = {}
    for item in items:
        types[item["type"]] += 1
        by_ticket.setdefault(item["ticket_id"], []).append(item)
        assert list(item) == METRIC_KEYS + METRIC_EXTRA.get(item["type"], [])
    assert set(types) == {
        "activate",
        "pause",
        "fulfill",
        "apply_sla",
        "apply_group_sla",
        "breach",
        "update_status",
        "measure",
    }
    sla = next(i for i in items if i["type"] == "apply_sla")["sla"]
    assert list(sla) == ["target", "target_in_seconds", "business_hours", "policy"]
    assert sla["target_in_seconds"] == sla["target"] * 60
    assert list(sla["policy"]) == ["id", "title", "description"]
    status = next(i for i in items if i["type"] == "update_status")["status"]
    assert list(status) == ["calendar", "business"]
    assert {i["deleted"] for i in items if i["type"] == "breach"} == {True, False}
    assert all(i["instance_id"] == 0 for i in items if i["type"] == "measure")

    tickets = {t["id"]: t for t in emu.dataset.visible("tickets")}
    assert set(by_ticket) == set(tickets)
    for ticket_id, events in by_ticket.items():
        created = tickets[ticket_id]["created_at"]
        activated = {
            e["metric"] for e in events if e["type"] == "activate" and e["time"] == created
        }
        assert activated >= {
            "agent_work_time",
            "pausable_update_time",
            "periodic_update_time",
            "reply_time",
            "requester_wait_time",
            "resolution_time",
        }
        assert any(e["type"] == "apply_sla" and e["metric"] == "reply_time" for e in events)


# --------------------------------------------------------------------------- catalogue


def test_ticket_fields_match_the_tickets_custom_fields(emu, http) -> None:
    page = http.get(emu.url + FIELDS).json()
    assert list(page) == ["ticket_fields", "next_page", "previous_page", "count"]
    fields = page["ticket_fields"]
    assert fields == emu.dataset.ticket_fields()
    assert page["count"] == len(fields)
    assert (page["next_page"], page["previous_page"]) == (None, None)
    assert [(f["position"], f["id"]) for f in fields] == sorted(
        (f["position"], f["id"]) for f in fields
    )
    by_id = {f["id"]: f for f in fields}
    for field in fields:
        assert list(field)[: len(FIELD_KEYS)] == FIELD_KEYS
        assert field["url"] == f"{emu.url}/api/v2/ticket_fields/{field['id']}.json"
    types = Counter(f["type"] for f in fields)
    assert {
        "subject",
        "description",
        "status",
        "tickettype",
        "priority",
        "group",
        "assignee",
        "custom_status",
        "textarea",
        "regexp",
        "partialcreditcard",
        "lookup",
    } <= set(types)
    for field in fields:
        if field["type"] in ("status", "tickettype", "priority"):
            assert field["sub_type_id"] == 0
            assert all(list(o) == ["name", "value"] for o in field["system_field_options"])
        if field["type"] == "regexp":
            assert field["regexp_for_validation"]
        if field["type"] == "lookup":
            assert field["relationship_target_type"] == "zen:user"
            assert field["relationship_filter"]["all"]

    # Custom field ids and types are exactly the ones tickets use.
    assert {fid: by_id[fid]["type"] for fid, _ in _TICKET_FIELDS} == dict(_TICKET_FIELDS)
    tickets = emu.dataset.visible("tickets")
    for ticket in tickets:
        for custom in ticket["custom_fields"]:
            field, value = by_id[custom["id"]], custom["value"]
            options = [o["value"] for o in field.get("custom_field_options", [])]
            if field["type"] == "tagger" and value is not None:
                assert value in options
            if field["type"] == "multiselect" and value is not None:
                assert set(value) <= set(options)
    checkbox = next(f for f in fields if f["type"] == "checkbox")
    assert checkbox["tag"]
    status_field = next(f for f in fields if f["type"] == "custom_status")
    assert {t["custom_status_id"] for t in tickets} <= {
        s["id"] for s in status_field["custom_statuses"]
    }
    assert set(_CUSTOM_STATUS_IDS.values()) == {s["id"] for s in status_field["custom_statuses"]}

    pages = _cbp(http, emu.url + FIELDS, 7)
    paged = [f for p in pages for f in p["ticket_fields"]]
    assert [f["id"] for f in paged] == sorted(by_id)
    assert paged == sorted(fields, key=lambda f: f["id"])
    assert pages[-1]["links"]["next"]
    assert pages[-1]["meta"]["after_cursor"]


def test_ticket_forms_shapes_and_conditions(emu, http) -> None:
    page = http.get(emu.url + FORMS, params={"active": "true"}).json()
    assert list(page) == ["ticket_forms", "next_page", "previous_page", "count"]
    forms = page["ticket_forms"]
    assert forms == emu.dataset.ticket_forms()
    assert page["count"] == len(forms) in (3, 4)
    assert {t["ticket_form_id"] for t in emu.dataset.visible("tickets")} <= {f["id"] for f in forms}
    assert set(_FORM_IDS) <= {f["id"] for f in forms}
    assert [f["active"] for f in forms].count(False) == 1
    assert any(not f["agent_conditions"] and not f["end_user_conditions"] for f in forms)
    fields = {f["id"]: f for f in emu.dataset.ticket_fields()}
    custom = {fid for fid, _ in _TICKET_FIELDS} | {
        f["id"] for f in fields.values() if f["removable"]
    }
    statuses: set[str] = set()
    children_per_condition = []
    typed = untyped = 0
    for form in forms:
        assert list(form) == FORM_KEYS
        assert form["url"] == f"{emu.url}/api/v2/ticket_forms/{form['id']}.json"
        assert set(form["ticket_field_ids"]) <= set(fields)
        for key in ("agent_conditions", "end_user_conditions"):
            rows = set()
            for condition in form[key]:
                parent = fields[condition["parent_field_id"]]
                assert parent["type"] in ("tagger", "checkbox")
                if "parent_field_type" in condition:
                    typed += 1
                    assert condition["parent_field_type"] == parent["type"]
                    assert list(condition) == [
                        "parent_field_id",
                        "parent_field_type",
                        "value",
                        "child_fields",
                    ]
                else:
                    untyped += 1
                    assert list(condition) == ["parent_field_id", "value", "child_fields"]
                if parent["type"] == "tagger":
                    assert condition["value"] in [
                        o["value"] for o in parent["custom_field_options"]
                    ]
                else:
                    assert isinstance(condition["value"], bool)
                children_per_condition.append(len(condition["child_fields"]))
                for child in condition["child_fields"]:
                    assert child["id"] in custom
                    assert child["id"] in form["ticket_field_ids"]
                    assert child["id"] != parent["id"]
                    row = (condition["parent_field_id"], condition["value"], child["id"])
                    assert row not in rows
                    rows.add(row)
                    if key == "end_user_conditions":
                        assert list(child) == ["id", "is_required"]
                        continue
                    assert list(child) == ["id", "is_required", "required_on_statuses"]
                    on = child["required_on_statuses"]
                    statuses.add(on["type"])
                    assert ("statuses" in on) == (on["type"] == "SOME_STATUSES")
    assert statuses == {"SOME_STATUSES", "ALL_STATUSES", "NO_STATUSES"}
    assert typed
    assert untyped
    assert {1, 2, 3} <= set(children_per_condition)


# --------------------------------------------------------------------------- model


def test_seed_history_replays_to_every_live_ticket() -> None:
    clock = lambda: 1_800_000_000.0  # noqa: E731
    one = Dataset(tickets=300, users=60, organizations=20, seed=3, clock=clock)
    two = Dataset(tickets=300, users=60, organizations=20, seed=3, clock=clock)
    assert one.ticket_events() == two.ticket_events()
    assert one.metric_events() == two.metric_events()

    counts = Counter()
    for ticket in one.visible("tickets"):
        audits = one.audits(ticket["id"])
        counts[len(audits)] += 1
        assert audits[0]["created_at"] == ticket["created_at"]
        assert audits[-1]["created_at"] == ticket["updated_at"]
        stamps = [(parse_iso(a["created_at"]), a["id"]) for a in audits]
        assert stamps == sorted(stamps)
        create = audits[0]["events"]
        assert create[0]["type"] == "Comment"
        assert create[0]["body"] == ticket["description"]
        assert create[0]["public"] == ticket["is_public"]
        assert {e["type"] for e in create} <= {"Comment", "Create", "Notification"}
        for audit in audits[1:]:
            assert any(e["type"] == "Change" for e in audit["events"])
        comments = one.comments(ticket["id"])
        assert all(
            c["via"] == next(a["via"] for a in audits if a["id"] == c["audit_id"]) for c in comments
        )
        if ticket["status"] != "deleted":
            _assert_replays_to(ticket, audits)
    assert set(counts) == {1, 2, 3, 4, 5}

    every = one.audits()
    ids = {
        "audits": [a["id"] for a in every],
        "events": [e["id"] for a in every for e in a["events"]],
        "attachments": [
            x["id"] for c in one.comments() for a in c["attachments"] for x in [a, *a["thumbnails"]]
        ],
        "metric_events": [m["id"] for m in one.metric_events()],
    }
    ranges = []
    for name, values in ids.items():
        assert len(values) == len(set(values)), name
        assert min(values) > 2**32, name
        ranges.append((min(values), max(values)))
    assert ranges == sorted(ranges)
    assert all(high < low for (_, high), (low, _) in pairwise(ranges))
    assert [c["id"] for c in one.comments()] == sorted(c["id"] for c in one.comments())
    # Served bytes are canonical, as for the other kinds.
    for item in one.ticket_events()[:50] + one.audits()[:50] + one.metric_events()[:50]:
        assert json.loads(encode(item)) == item


def test_mutations_add_exactly_the_reported_activity_after_the_final_end_time(emu, http) -> None:
    every = {"include": "comment_events", "support_type_scope": "all"}
    events, event_pages = _export(http, emu.url + EVENTS, {"start_time": 0, **every})
    metrics, metric_pages = _export(http, emu.url + METRICS, {"start_time": 0})
    events_end, metrics_end = event_pages[-1]["end_time"], metric_pages[-1]["end_time"]
    before = {t["id"]: t for t in emu.dataset.visible("tickets")}

    changed = emu.mutate(
        update_tickets=5, create_tickets=3, delete_tickets=1, system_update_tickets=2
    )
    stamp = changed["timestamp"]
    resumed = http.get(emu.url + EVENTS, params={"start_time": events_end, **every}).json()
    assert resumed["end_of_stream"] is True
    old = {e["id"] for e in events}
    fresh = [e for e in resumed["ticket_events"] if e["id"] not in old]
    assert all(e["timestamp"] == events_end for e in resumed["ticket_events"] if e["id"] in old)
    assert sorted(e["id"] for e in fresh) == changed["audits"]
    assert all(e["timestamp"] == stamp > events_end for e in fresh)
    assert sorted(e["ticket_id"] for e in fresh) == sorted(
        changed["update_tickets"] + changed["create_tickets"]
    )
    comment_ids = sorted(
        c["id"] for e in fresh for c in e["child_events"] if c["event_type"] == "Comment"
    )
    assert comment_ids == changed["comments"]
    assert 3 <= len(comment_ids) <= 8

    new_metrics = http.get(emu.url + METRICS, params={"start_time": metrics_end + 1}).json()
    got = new_metrics["ticket_metric_events"]
    assert sorted(m["id"] for m in got) == changed["metric_events"]
    assert {m["id"] for m in metrics}.isdisjoint(changed["metric_events"])
    assert Counter(m["type"] for m in got) == {"update_status": 5, "activate": 18, "apply_sla": 3}
    assert all(parse_iso(m["time"]) == stamp for m in got)

    for ticket_id in changed["update_tickets"] + changed["create_tickets"]:
        ticket = emu.dataset.get("tickets", ticket_id)
        audits = http.get(f"{emu.url}/api/v2/tickets/{ticket_id}/audits.json").json()["audits"]
        assert audits == emu.dataset.audits(ticket_id)
        assert parse_iso(audits[-1]["created_at"]) == stamp
        _assert_replays_to(ticket, audits)
    for ticket_id in changed["create_tickets"]:
        (comment,) = emu.dataset.comments(ticket_id)
        assert comment["body"] == emu.dataset.get("tickets", ticket_id)["description"]
    for ticket_id in changed["system_update_tickets"]:
        assert emu.dataset.audits(ticket_id) == [
            a for a in emu.dataset.audits() if a["ticket_id"] == ticket_id
        ]
        assert parse_iso(emu.dataset.audits(ticket_id)[-1]["created_at"]) < stamp
    gone = changed["delete_tickets"][0]
    assert before[gone]["status"] != "deleted"
    assert http.get(f"{emu.url}/api/v2/tickets/{gone}/comments.json").status_code == 404
    assert all(parse_iso(a["created_at"]) < stamp for a in emu.dataset.audits(gone))


def test_activity_is_built_lazily_and_quickly_for_20000_tickets() -> None:
    dataset = Dataset(tickets=20_000, users=500, organizations=100, seed=1)
    dataset.cursor_page("tickets", (0, 0), 1000)
    assert dataset._activity is None, "ticket exports must not build the activity model"
    started = time.perf_counter()
    dataset.activity()
    elapsed = time.perf_counter() - started
    print(f"activity model for 20000 tickets built in {elapsed:.2f} s")
    assert elapsed < 10, f"building activity for 20000 tickets took {elapsed:.1f} s"
    page = dataset.time_page("ticket_events", 0, 1000, include_comments=True)
    assert len(page.items) >= 1000
    assert len(dataset.truth("ticket_events")) > 20_000
