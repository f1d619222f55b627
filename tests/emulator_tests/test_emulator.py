"""Tests for the Zendesk emulator itself: real HTTP against an in-process server.

The tap's tests trust the emulator to reproduce Zendesk's paging, auth, limits and faults, so
these pin each behaviour down against the data the emulator reports as visible.
"""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.emulator import Dataset, FaultRule
from tests.emulator.dataset import encode, parse_iso
from tests.emulator.exports import (
    InvalidCursorError,
    decode_cursor,
    encode_cursor,
    select_cursor_page,
    select_time_page,
)

ROOT = Path(__file__).resolve().parents[2]
CURSOR_TICKETS = "/api/v2/incremental/tickets/cursor.json"
CURSOR_USERS = "/api/v2/incremental/users/cursor.json"
TIME_ORGS = "/api/v2/incremental/organizations.json"
TIME_TICKETS = "/api/v2/incremental/tickets.json"
TICKET_KEYS = [
    "url",
    "id",
    "external_id",
    "via",
    "created_at",
    "updated_at",
    "type",
    "subject",
    "raw_subject",
    "description",
    "priority",
    "status",
    "recipient",
    "requester_id",
    "submitter_id",
    "assignee_id",
    "organization_id",
    "group_id",
    "collaborator_ids",
    "follower_ids",
    "email_cc_ids",
    "forum_topic_id",
    "problem_id",
    "has_incidents",
    "is_public",
    "due_at",
    "tags",
    "custom_fields",
    "satisfaction_rating",
    "sharing_agreement_ids",
    "custom_status_id",
    "fields",
    "followup_ids",
    "ticket_form_id",
    "brand_id",
    "allow_channelback",
    "allow_attachments",
    "from_messaging_channel",
    "generated_timestamp",
]


def _cursor_export(
    http: requests.Session, url: str, params: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Follow after_url to end_of_stream; return (items, pages)."""
    pages: list[dict[str, Any]] = []
    response = http.get(url, params=params)
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        if page["end_of_stream"]:
            break
        assert len(pages) < 500, "cursor export did not terminate"
        response = http.get(page["after_url"])
    key = next(iter(pages[0]))
    return [item for page in pages for item in page[key]], pages


def _time_export(http: requests.Session, url: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = []
    response = http.get(url, params=params)
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        if page["end_of_stream"]:
            return pages
        assert len(pages) < 500, "time-based export did not terminate"
        response = http.get(page["next_page"])


# --------------------------------------------------------------------------- pure logic


def test_cursor_encoding_matches_recorded_format() -> None:
    # Recorded: MTY5NTA1MjY2My4wfHwyOHw= decodes to "1695052663.0||28|".
    assert encode_cursor(1695052663, 28) == "MTY5NTA1MjY2My4wfHwyOHw="
    assert decode_cursor("MTY5NTA3Mzk2My4wfHw2MTYzOTA5NzE2NTA2fA==") == (
        1695073963,
        6163909716506,
    )
    for bad in ("not base64!", base64.b64encode(b"garbage").decode(), ""):
        with pytest.raises(InvalidCursorError):
            decode_cursor(bad)


def test_time_page_rules_on_plain_lists() -> None:
    stamps = [10, 10, 11, 12, 12, 12, 12, 12, 13]

    def page(start: int, per_page: int, stuck: bool = False) -> tuple[list[int], int, bool]:
        p = select_time_page(stamps, lambda ts: ts, start, per_page, cutoff=100, stuck=stuck)
        return p.items, p.end_time, p.end_of_stream

    # Boundary second 12 only partly included, end_time = its ts so it comes back in full.
    assert page(0, 4) == ([10, 10, 11, 12], 12, False)
    # A page inside one second expands to the whole second and moves past it.
    assert page(12, 2) == ([12] * 5, 13, False)
    assert page(13, 5) == ([13], 13, True)
    assert page(14, 5) == ([], 14, True)
    assert page(0, 4, stuck=True) == ([10, 10, 11, 12], 0, False)
    # Items beyond the cutoff do not exist yet.
    p = select_time_page(stamps, lambda ts: ts, 0, 100, cutoff=11)
    assert (p.items, p.end_time, p.end_of_stream) == ([10, 10, 11], 11, True)


def test_cursor_page_rules_on_plain_lists() -> None:
    keys = [(10, 1), (10, 2), (11, 1), (12, 5), (12, 6)]
    first = select_cursor_page(keys, lambda k: k, (10, 0), 2, cutoff=100)
    assert (first.items, first.after, first.end_of_stream) == ([(10, 1), (10, 2)], (10, 2), False)
    rest = select_cursor_page(keys, lambda k: k, first.after, 10, cutoff=100)
    assert (rest.items, rest.end_of_stream) == ([(11, 1), (12, 5), (12, 6)], True)
    empty = select_cursor_page(keys, lambda k: k, rest.after, 10, cutoff=100)
    assert (empty.items, empty.after, empty.end_of_stream) == ([], (12, 6), True)
    odd = select_cursor_page(keys, lambda k: k, (0, 0), 2, cutoff=100, keep=lambda k: k[1] > 1)
    assert (odd.items, odd.end_of_stream) == ([(10, 2), (12, 5)], False)


# --------------------------------------------------------------------------- dataset


def test_dataset_is_deterministic_and_shaped_like_zendesk() -> None:
    clock = lambda: 1_800_000_000.0  # noqa: E731
    one = Dataset(tickets=400, users=60, organizations=20, seed=3, clock=clock)
    two = Dataset(tickets=400, users=60, organizations=20, seed=3, clock=clock)
    for kind in ("tickets", "users", "organizations"):
        assert [one.raw(kind, i) for i in one.ids(kind)] == [
            two.raw(kind, i) for i in two.ids(kind)
        ]
        # Served bytes are canonical, so re-encoding after a mutation changes only edits.
        assert all(encode(json.loads(one.raw(kind, i))) == one.raw(kind, i) for i in one.ids(kind))

    tickets = one.visible("tickets")
    assert len(tickets) == 400
    assert all(list(t) == TICKET_KEYS for t in tickets)
    assert len({t["id"] for t in tickets}) == 400
    assert all(t["id"] > 2**32 for t in tickets)
    lagging = 0
    kinds_by_field: dict[int, set[str]] = {}
    for t in tickets:
        updated, created = parse_iso(t["updated_at"]), parse_iso(t["created_at"])
        assert created <= updated <= t["generated_timestamp"]
        lagging += updated < t["generated_timestamp"]
        assert t["custom_fields"] == t["fields"]
        for field in t["custom_fields"]:
            if field["value"] is not None:
                kinds_by_field.setdefault(field["id"], set()).add(type(field["value"]).__name__)
        if t["status"] == "deleted":
            assert (t["subject"], t["raw_subject"], t["description"]) == ("SCRUBBED",) * 2 + ("X",)
    assert 0.3 < lagging / 400 < 0.5
    assert all(len(kinds) == 1 for kinds in kinds_by_field.values())
    assert {"str", "list", "bool", "int", "float"} <= {
        k for ks in kinds_by_field.values() for k in ks
    }
    assert {t["via"]["channel"] for t in tickets} == {"api", "web", "email", "voice"}
    assert {t["status"] for t in tickets} >= {
        "new",
        "open",
        "pending",
        "solved",
        "closed",
        "deleted",
    }
    user_ids = set(one.ids("users"))
    assert {t["requester_id"] for t in tickets} <= user_ids

    per_second = Counter(t["generated_timestamp"] for t in tickets)
    assert max(per_second.values()) >= 12
    assert Counter(per_second.values()).most_common(1)[0][0] <= 3
    assert one.get("users", one.ids("users")[0])["role"] in ("end-user", "agent", "admin")
    assert "deleted_at" in one.get("organizations", one.ids("organizations")[0])


# --------------------------------------------------------------------------- cursor exports


def test_cursor_export_chains_to_every_visible_ticket_once(emu, http) -> None:
    params = {"start_time": 0, "per_page": 7, "support_type_scope": "all"}
    items, pages = _cursor_export(http, emu.url + CURSOR_TICKETS, params)
    truth = emu.dataset.truth("tickets")
    assert [t["id"] for t in items] == [i for i, _ in truth]
    assert [(t["generated_timestamp"], t["id"]) for t in items] == sorted(
        (ts, i) for i, ts in truth
    )
    assert all(len(p["tickets"]) == 7 for p in pages[:-1])
    assert list(pages[0]) == [
        "tickets",
        "after_url",
        "before_url",
        "after_cursor",
        "before_cursor",
        "end_of_stream",
    ]
    last = pages[-1]
    assert last["end_of_stream"] is True
    assert last["before_url"] is None
    assert last["before_cursor"] is None
    assert decode_cursor(last["after_cursor"]) == (
        items[-1]["generated_timestamp"],
        items[-1]["id"],
    )
    assert "per_page=7" in last["after_url"]
    assert "cursor=" in last["after_url"]
    assert "support_type_scope=all" in last["after_url"]
    assert items[0]["url"] == f"{emu.url}/api/v2/tickets/{items[0]['id']}.json"

    # Resuming from the final cursor yields an empty page that still carries a cursor.
    again = http.get(last["after_url"]).json()
    assert again["tickets"] == []
    assert again["end_of_stream"] is True
    assert again["after_cursor"] == last["after_cursor"]


def test_cursor_export_exclude_deleted(emu, http) -> None:
    every, _ = _cursor_export(http, emu.url + CURSOR_TICKETS, {"start_time": 0, "per_page": 40})
    assert any(t["status"] == "deleted" for t in every)
    params = {"start_time": 0, "per_page": 40, "exclude_deleted": "true"}
    kept, pages = _cursor_export(http, emu.url + CURSOR_TICKETS, params)
    assert all(t["status"] != "deleted" for t in kept)
    # Without support_type_scope: Zendesk's default, agent tickets only.
    truth = emu.dataset.truth("tickets", True, scope="agent")
    assert [t["id"] for t in kept] == [i for i, _ in truth]
    assert all("exclude_deleted=true" in p["after_url"] for p in pages)


def test_ticket_exports_serve_ai_agent_tickets_only_when_the_scope_asks(emu, http) -> None:
    """support_type_scope: absent or `agent` leaves AI-agent tickets out, as Zendesk does."""
    ai_agent = set(emu.dataset.ai_agent_ids())
    every = [i for i, _ in emu.dataset.truth("tickets")]
    assert 0 < len(ai_agent) < len(every) / 5
    agents = [i for i in every if i not in ai_agent]
    expected = {None: agents, "agent": agents, "ai_agent": sorted(ai_agent, key=every.index)}
    expected["all"] = every
    for scope, ids in expected.items():
        params = {"start_time": 0, "per_page": 40}
        if scope is not None:
            params["support_type_scope"] = scope
        items, pages = _cursor_export(http, emu.url + CURSOR_TICKETS, params)
        assert [t["id"] for t in items] == ids, scope
        assert all(len(p["tickets"]) == 40 for p in pages[:-1]), scope
        time_pages = _time_export(http, emu.url + TIME_TICKETS, params)
        assert {t["id"] for p in time_pages for t in p["tickets"]} == set(ids), scope

    # A cursor is only a position: a follow-up without the parameter is read as `agent`.
    params = {"start_time": 0, "per_page": 40, "support_type_scope": "all"}
    first = http.get(emu.url + CURSOR_TICKETS, params=params).json()
    rest = http.get(emu.url + CURSOR_TICKETS, params={"cursor": first["after_cursor"]}).json()
    assert rest["tickets"]
    assert not {t["id"] for t in rest["tickets"]} & ai_agent

    for url in (CURSOR_TICKETS, TIME_TICKETS):
        bad = http.get(emu.url + url, params={"start_time": 0, "support_type_scope": "bot"})
        assert bad.status_code == 400
        assert bad.json()["error"] == "InvalidValue"
        assert "support_type_scope" in bad.json()["description"]
    # Exports of other objects do not take it: ignored.
    users = http.get(emu.url + CURSOR_USERS, params={"start_time": 0, "support_type_scope": "x"})
    assert users.status_code == 200
    # Per-ticket reads are not scoped (nothing documents a scope there).
    live = [t["id"] for t in emu.dataset.visible("tickets") if t["status"] != "deleted"]
    some = next(i for i in live if i in ai_agent)
    comments = http.get(f"{emu.url}/api/v2/tickets/{some}/comments.json")
    assert comments.status_code == 200
    assert comments.json()["comments"]


def test_users_cursor_export_and_bad_cursor(emu, http) -> None:
    users, _ = _cursor_export(http, emu.url + CURSOR_USERS, {"start_time": 0, "per_page": 9})
    assert [u["id"] for u in users] == [i for i, _ in emu.dataset.truth("users")]
    bad = http.get(emu.url + CURSOR_TICKETS, params={"cursor": "%%%not-a-cursor"})
    assert bad.status_code == 400
    assert bad.json() == {"error": "InvalidCursor", "description": "Invalid cursor"}


# --------------------------------------------------------------------------- time-based exports


def test_time_based_export_duplicates_expansion_and_final_next_page(emu, http) -> None:
    pages = _time_export(http, emu.url + TIME_ORGS, {"start_time": 0, "per_page": 5})
    assert list(pages[0]) == ["organizations", "count", "end_of_stream", "next_page", "end_time"]
    seen = [o["id"] for p in pages for o in p["organizations"]]
    truth = emu.dataset.truth("organizations")
    assert set(seen) == {i for i, _ in truth}
    assert len(seen) > len(set(seen)), "expected boundary duplicates"

    expanded = []
    for page in pages:
        stamps = [parse_iso(o["updated_at"]) for o in page["organizations"]]
        assert page["count"] == len(stamps)
        assert f"start_time={page['end_time']}" in page["next_page"]
        assert "per_page=5" in page["next_page"]
        if page["end_of_stream"] or len(set(stamps)) > 1:
            assert page["end_time"] == stamps[-1]
        else:
            assert page["count"] >= 5
            assert page["end_time"] == stamps[0] + 1
            expanded.append([o["id"] for o in page["organizations"]])
    assert any(len(ids) > 5 for ids in expanded)
    # Within one second the time-based order is not by id.
    assert any(ids != sorted(ids) for ids in expanded)
    assert pages[-1]["end_of_stream"] is True
    assert pages[-1]["next_page"]


def test_time_based_tickets_same_second_and_stuck_end_time(emu, http) -> None:
    per_second = Counter(ts for _, ts in emu.dataset.truth("tickets"))
    second, size = max(per_second.items(), key=lambda kv: kv[1])
    assert size >= 12
    page = http.get(emu.url + TIME_TICKETS, params={"start_time": second, "per_page": 5}).json()
    assert page["count"] == size
    assert page["end_time"] == second + 1
    assert page["end_of_stream"] is False

    emu.configure(stuck_end_time=True)
    start = second - 3600
    stuck = http.get(emu.url + TIME_TICKETS, params={"start_time": start, "per_page": 5}).json()
    assert stuck["end_time"] == start
    assert stuck["end_of_stream"] is False
    assert f"start_time={start}" in stuck["next_page"]
    users = http.get(emu.url + "/api/v2/incremental/users", params={"start_time": 0}).json()
    assert list(users) == ["users", "next_page", "count", "end_of_stream", "end_time"]


@pytest.mark.parametrize("path", [CURSOR_TICKETS, CURSOR_USERS, TIME_ORGS, TIME_TICKETS])
def test_start_time_validation(emu, http, path) -> None:
    url = emu.url + path
    now = int(time.time())
    missing = http.get(url)
    assert missing.status_code == 400
    assert missing.json() == {"error": "InvalidValue", "description": "start_time is required"}
    future = http.get(url, params={"start_time": now + 3600})
    assert future.status_code == 400
    assert future.json()["description"] == "start_time is in the future"
    recent = http.get(url, params={"start_time": now - 30})
    assert recent.status_code == 422
    assert recent.json() == {
        "error": "InvalidValue",
        "description": "Too recent start_time. Use a start_time older than 1 minute",
    }
    assert http.get(url, params={"start_time": "yesterday"}).status_code == 400
    assert http.get(url, params={"start_time": now - 61}).status_code == 200


# --------------------------------------------------------------------------- auth and errors


def test_auth_schemes_and_401_bodies(emu) -> None:
    creds = emu.credentials
    url = emu.url + CURSOR_TICKETS + "?start_time=0&per_page=1"
    token = (f"{creds['email']}/token", creds["api_token"])
    password = (creds["email"], creds["password"])
    assert requests.get(url, auth=token).status_code == 200
    # Password access is refused unless switched on (Zendesk ended it in January 2026).
    assert requests.get(url, auth=password).status_code == 401
    emu.configure(password_enabled=True)
    assert requests.get(url, auth=password).status_code == 200
    bearer = {"Authorization": f"Bearer {creds['oauth_token']}"}
    assert requests.get(url, headers=bearer).status_code == 200

    emu.configure(password_enabled=False)
    for auth in (password, (creds["email"] + "/token", "wrong"), None):
        denied = requests.get(url, auth=auth)
        assert denied.status_code == 401
        assert denied.json() == {"error": "Couldn't authenticate you"}
        assert denied.headers["WWW-Authenticate"] == 'Basic realm="Web Password"'
    bad_bearer = requests.get(url, headers={"Authorization": "Bearer nope"})
    assert bad_bearer.status_code == 401
    assert bad_bearer.json()["error"] == "invalid_token"
    assert bad_bearer.json()["error_description"].startswith("The access token provided is")


def test_forbidden_prefix_and_not_found(emu, http) -> None:
    emu.configure(forbidden_paths=["/api/v2/incremental/users"])
    forbidden = http.get(emu.url + CURSOR_USERS, params={"start_time": 0})
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["title"] == "Forbidden"
    assert http.get(emu.url + CURSOR_TICKETS, params={"start_time": 0}).status_code == 200

    missing = http.get(emu.url + "/api/v2/tickets/nope.json")
    assert missing.status_code == 404
    assert missing.json() == {"error": "InvalidEndpoint", "description": "Not found"}
    wrong = http.get(emu.url + "/v2/incremental/tickets.json")
    assert wrong.status_code == 404
    assert wrong.headers["Content-Type"].startswith("text/html")
    assert "<html>" in wrong.text.lower() or "<!doctype html>" in wrong.text.lower()


# --------------------------------------------------------------------------- rate limits


def test_rate_limit_headers_and_export_429(emu, http) -> None:
    ok = http.get(emu.url + CURSOR_TICKETS, params={"start_time": 0, "per_page": 1})
    for header in ("x-rate-limit", "x-rate-limit-remaining", "ratelimit-limit", "ratelimit-reset"):
        assert int(ok.headers[header]) >= 1
    assert ok.headers["x-rate-limit"] == "700"
    assert "zendesk-ratelimit-incremental-exports" not in ok.headers

    emu.configure(export_limit=2, time_scale=2.0)
    statuses = []
    for _ in range(8):
        response = http.get(emu.url + CURSOR_TICKETS, params={"start_time": 0, "per_page": 1})
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
    assert statuses[-1] == 429, statuses
    assert response.json() == {
        "error": "APIRateLimitExceeded",
        "description": "Number of allowed incremental export API requests per minute exceeded",
    }
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 2
    bucket = response.headers["zendesk-ratelimit-incremental-exports"]
    assert bucket.startswith("total=2; remaining=0; resets=")
    assert emu.stats["rate_limited"]["export"] == 1
    time.sleep(retry_after)
    assert http.get(emu.url + CURSOR_TICKETS, params={"start_time": 0}).status_code == 200


def test_account_429_is_plain_text(emu, http) -> None:
    emu.configure(account_limit=2, time_scale=30.0)
    statuses = [
        http.get(emu.url + TIME_ORGS, params={"start_time": 0}).status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    refused = http.get(emu.url + TIME_ORGS, params={"start_time": 0})
    assert refused.status_code == 429
    assert refused.headers["Content-Type"].startswith("text/plain")
    assert refused.text == "Number of allowed API requests per minute exceeded"
    assert 1 <= int(refused.headers["Retry-After"]) <= 30
    assert refused.headers["x-rate-limit-remaining"] == "0"
    assert emu.stats["rate_limited"]["account"] == 2


# --------------------------------------------------------------------------- faults


def test_every_fault_kind_and_retry_gets_the_same_page(emu, http) -> None:
    url = emu.url + CURSOR_TICKETS + "?start_time=0&per_page=50"
    baseline = http.get(url)
    assert baseline.status_code == 200

    def inject(kind: str, **extra: Any) -> None:
        emu.add_faults(FaultRule(path_prefix=CURSOR_TICKETS, kind=kind, count=1, **extra))

    inject("429")
    r = http.get(url)
    assert (r.status_code, r.headers["Retry-After"]) == (429, "1")
    assert r.text == "Number of allowed API requests per minute exceeded"

    inject("429_no_retry_after")
    r = http.get(url)
    assert r.status_code == 429
    assert "Retry-After" not in r.headers
    assert r.headers["ratelimit-reset"] == "1"

    for kind in ("500", "502", "503", "504"):
        inject(kind)
        r = http.get(url)
        assert r.status_code == int(kind)
        assert r.headers["Content-Type"].startswith("text/html")
    inject("502")
    assert http.get(url).text == "<html><body><h1>502 Bad Gateway</h1></body></html>"

    inject("truncate")
    r = http.get(url)
    assert r.status_code == 200
    assert len(r.content) == int(r.headers["Content-Length"]) == len(baseline.content) // 2
    with pytest.raises(requests.JSONDecodeError):
        r.json()

    inject("drop")
    with pytest.raises(requests.ConnectionError):
        requests.get(url, auth=http.auth)

    inject("short_body")
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        requests.get(url, auth=http.auth)

    inject("slow", slow_seconds=0.3)
    started = time.monotonic()
    r = http.get(url)
    assert time.monotonic() - started >= 0.3
    assert r.content == baseline.content

    inject("html_200")
    r = http.get(url)
    assert (r.status_code, r.text) == (200, "<html><body>Maintenance</body></html>")
    assert r.headers["Content-Type"].startswith("text/html")

    inject("empty_200")
    r = http.get(url)
    assert (r.status_code, r.content, r.headers["Content-Length"]) == (200, b"", "0")
    assert r.headers["Content-Type"].startswith("application/json")

    inject("wrong_shape")
    r = http.get(url)
    assert (r.status_code, r.json()) == (200, {"unexpected": True})

    inject("redirect")
    r = http.get(url, allow_redirects=False)
    port = emu.url.rsplit(":", 1)[1]
    assert r.status_code == 302
    assert (
        r.headers["Location"] == f"http://127.0.0.2:{port}{CURSOR_TICKETS}?start_time=0&per_page=50"
    )

    # Nothing above advanced any state: the retried URL returns the very same page.
    assert http.get(url).content == baseline.content
    faults = emu.stats["faults_by_kind"]
    assert faults == {
        "429": 1,
        "429_no_retry_after": 1,
        "500": 1,
        "502": 2,
        "503": 1,
        "504": 1,
        "truncate": 1,
        "drop": 1,
        "short_body": 1,
        "slow": 1,
        "html_200": 1,
        "empty_200": 1,
        "wrong_shape": 1,
        "redirect": 1,
    }


def test_scripted_faults_are_fifo_and_random_faults_are_seeded(emu, http) -> None:
    url = emu.url + TIME_ORGS + "?start_time=0"
    emu.add_faults(FaultRule("/api/v2/incremental/", "500", count=2), FaultRule("/api/v2/", "502"))
    assert [http.get(url).status_code for _ in range(4)] == [500, 500, 502, 200]

    # Faults a client may rightly stop on, and slowness, are drawn only when asked for.
    assert set(emu.config["fault_kinds"]).isdisjoint(
        {"slow", "html_200", "empty_200", "wrong_shape", "redirect"}
    )
    emu.configure(fault_rate=1.0, fault_kinds=["503"], fault_seed=5)
    assert http.get(url).status_code == 503
    emu.configure(fault_rate=0.5, fault_kinds=["500", "503"], fault_seed=11)
    first = [http.get(url).status_code for _ in range(12)]
    emu.configure(fault_seed=11)
    assert [http.get(url).status_code for _ in range(12)] == first
    assert 200 in first
    assert 500 in first or 503 in first
    emu.configure(fault_rate=0.0)
    assert http.get(url).status_code == 200


# --------------------------------------------------------------------------- mutations


def test_mutations_appear_after_the_final_cursor_and_nothing_else(emu, http) -> None:
    every = {"support_type_scope": "all"}
    _, pages = _cursor_export(http, emu.url + CURSOR_TICKETS, {"start_time": 0, **every})
    final_cursor = pages[-1]["after_cursor"]
    before = {t["id"]: t for t in emu.dataset.visible("tickets")}
    org_end = _time_export(http, emu.url + TIME_ORGS, {"start_time": 0})[-1]["end_time"]

    changed = emu.mutate(
        update_tickets=5,
        create_tickets=3,
        delete_tickets=1,
        system_update_tickets=2,
        update_users=2,
        create_users=1,
        update_organizations=2,
        create_organizations=1,
    )
    stamp = changed["timestamp"]
    assert stamp > max(t["generated_timestamp"] for t in before.values())
    resumed = http.get(emu.url + CURSOR_TICKETS, params={"cursor": final_cursor, **every}).json()
    assert resumed["end_of_stream"] is True
    got = {t["id"]: t for t in resumed["tickets"]}
    assert sorted(got) == changed["tickets"]
    assert len(got) == 11
    assert all(t["generated_timestamp"] == stamp for t in got.values())
    for tid in changed["delete_tickets"]:
        assert (got[tid]["status"], got[tid]["subject"]) == ("deleted", "SCRUBBED")
    for tid in changed["system_update_tickets"]:
        assert got[tid]["updated_at"] == before[tid]["updated_at"]
        assert parse_iso(got[tid]["updated_at"]) < stamp
    for tid in changed["update_tickets"]:
        assert parse_iso(got[tid]["updated_at"]) == stamp
    assert not set(changed["create_tickets"]) & set(before)

    tail = http.get(resumed["after_url"]).json()
    assert tail["tickets"] == []
    assert tail["end_of_stream"] is True

    orgs = http.get(emu.url + TIME_ORGS, params={"start_time": org_end + 1}).json()
    assert sorted(o["id"] for o in orgs["organizations"]) == changed["organizations"]
    again = emu.mutate(update_users=1)
    assert again["timestamp"] > stamp


# --------------------------------------------------------------------------- admin and CLI


def test_admin_http_endpoints(emu, http) -> None:
    admin = emu.url + "/__emulator"
    creds = requests.get(admin + "/credentials").json()
    assert creds["api_token"] == emu.credentials["api_token"]
    assert creds["url"] == emu.url
    assert creds["api_token"].startswith("emu-tok-")
    assert len(creds["api_token"]) == 32

    config = requests.post(admin + "/configure", json={"export_limit": 5}).json()
    assert config["export_limit"] == 5
    assert emu.config["export_limit"] == 5
    assert requests.post(admin + "/configure", json={"bogus": 1}).status_code == 400
    assert requests.post(admin + "/configure", json={"fault_rate": 7}).status_code == 400

    rules = [{"path_prefix": TIME_ORGS, "kind": "503", "count": 1}]
    assert len(requests.post(admin + "/faults", json=rules).json()["pending"]) == 1
    assert http.get(emu.url + TIME_ORGS, params={"start_time": 0}).status_code == 503
    assert requests.post(admin + "/faults", json=[{"kind": "nope"}]).status_code == 400

    truth = requests.get(admin + "/truth", params={"kind": "tickets"}).json()
    assert truth["count"] == 300 == len(truth["items"])
    assert [x["id"] for x in truth["items"]] == [i for i, _ in emu.dataset.truth("tickets")]
    changed = requests.post(admin + "/mutate", json={"create_tickets": 2}).json()
    assert len(changed["create_tickets"]) == 2
    after = requests.get(admin + "/truth", params={"kind": "tickets"}).json()
    assert after["count"] == 302
    assert after["max_ts"] == changed["timestamp"]

    stats = requests.get(admin + "/stats").json()
    assert stats["total_requests"] == 1
    assert stats["faults_by_kind"] == {"503": 1}
    assert stats["responses_by_status"] == {"503": 1}
    assert requests.post(admin + "/reset_stats").json()["total_requests"] == 0


def test_cli_prints_url_and_stops_on_sigterm(tmp_path) -> None:
    url_file = tmp_path / "emulator.url"
    command = [sys.executable, "-m", "tests.emulator", "--port", "0", "--tickets", "40"]
    command += ["--users", "10", "--organizations", "5", "--seed", "2", "--url-file", str(url_file)]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("EMULATOR_URL=http://127.0.0.1:")
        url = line.split("=", 1)[1]
        assert url_file.read_text().strip() == url
        creds = requests.get(url + "/__emulator/credentials", timeout=5).json()
        auth = (creds["email"] + "/token", creds["api_token"])
        every = {"start_time": 0, "support_type_scope": "all"}
        page = requests.get(url + CURSOR_TICKETS, params=every, auth=auth, timeout=5)
        assert len(page.json()["tickets"]) == 40
        # Password auth is off unless --password-enabled is given.
        password = (creds["email"], creds["password"])
        assert (
            requests.get(url + TIME_ORGS, params={"start_time": 0}, auth=password).status_code
            == 401
        )
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
