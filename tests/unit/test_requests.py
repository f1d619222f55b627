"""What the tap puts on the wire: auth headers, User-Agent and export parameters.

One recorded Zendesk response is replayed with `responses`; the requests are inspected.
"""

from __future__ import annotations

import base64
import datetime as dt
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from tap_zendesk import __version__
from tap_zendesk.tap import TapZendesk
from tests.support.recorded import LAST_TICKETS_PAGE, MOCKED_ACCOUNT, TICKETS_EXPORT_URL

# The account without a credential: each test picks its own.
BASE = {key: value for key, value in MOCKED_ACCOUNT.items() if key != "api_token"}


def sent(config: dict, state: dict | None = None) -> responses.Call:
    """Sync the tickets stream against one recorded final page; return the request made."""
    with responses.RequestsMock() as mock:
        mock.get(TICKETS_EXPORT_URL, json=LAST_TICKETS_PAGE)
        tap = TapZendesk(config=config, state=state or {}, parse_env_config=False)
        records = list(tap.streams["tickets"].get_records(None))
        assert [r["id"] for r in records] == [t["id"] for t in LAST_TICKETS_PAGE["tickets"]]
        return mock.calls[0]


def query(call: responses.Call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


def basic(user: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


@pytest.mark.parametrize(
    ("credentials", "header"),
    [
        ({"api_token": "tok"}, basic("admin@acme.com/token", "tok")),
        ({"auth_method": "password", "password": "pw"}, basic("admin@acme.com", "pw")),
        ({"auth_method": "oauth", "oauth_token": "oat"}, "Bearer oat"),
    ],
)
def test_each_auth_method_sends_its_authorization_header(credentials, header):
    call = sent({**BASE, **credentials})
    assert call.request.headers["Authorization"] == header


def test_user_agent_names_the_tap_and_its_version():
    call = sent({**BASE, "api_token": "tok"})
    assert call.request.headers["User-Agent"] == f"tap-zendesk-upsert/{__version__}"

    call = sent({**BASE, "api_token": "tok", "user_agent": "acme-etl/2"})
    assert call.request.headers["User-Agent"] == "acme-etl/2"


def test_first_request_sends_start_time_and_page_size():
    call = sent({**BASE, "api_token": "tok", "page_size": 250})
    # ticket_metrics, selected by default, comes from the export's metric_sets side-load.
    # support_type_scope=all: without it Zendesk leaves AI-agent tickets out.
    assert query(call) == {
        "start_time": "1704067200",
        "per_page": "250",
        "include": "metric_sets",
        "support_type_scope": "all",
    }


def test_start_time_is_never_within_the_last_minute():
    recent = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)).isoformat()
    call = sent({**BASE, "api_token": "tok", "start_date": recent})
    assert int(query(call)["start_time"]) <= time.time() - 61


def test_a_saved_cursor_is_resumed_without_start_time():
    state = {"bookmarks": {"tickets": {"cursor": "c2F2ZWQ=", "replication_key_value": 1}}}
    call = sent({**BASE, "api_token": "tok"}, state)
    assert query(call) == {
        "cursor": "c2F2ZWQ=",
        "per_page": "1000",
        "include": "metric_sets",
        "support_type_scope": "all",
    }


@pytest.mark.parametrize("scope", ["agent", "ai_agent", "all"])
def test_ticket_scope_is_sent_as_support_type_scope(scope):
    call = sent({**BASE, "api_token": "tok", "ticket_scope": scope})
    assert query(call)["support_type_scope"] == scope


def test_a_bookmark_without_cursor_restarts_at_the_later_of_bookmark_and_start_date():
    later = {"bookmarks": {"tickets": {"replication_key_value": 1704153600}}}
    assert query(sent({**BASE, "api_token": "tok"}, later))["start_time"] == "1704153600"

    earlier = {"bookmarks": {"tickets": {"replication_key_value": 1600000000}}}
    assert query(sent({**BASE, "api_token": "tok"}, earlier))["start_time"] == "1704067200"
