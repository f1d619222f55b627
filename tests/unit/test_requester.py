"""The request engine on its own: each status and failure, in-process, without the emulator.

Zendesk's statuses and headers as documented at
https://developer.zendesk.com/api-reference/introduction/requests/ and
https://developer.zendesk.com/api-reference/introduction/rate-limits/.
"""

from __future__ import annotations

import dataclasses
import logging

import pytest
import requests
import responses
from responses import matchers

from tap_zendesk.api.auth import BearerAuth
from tap_zendesk.api.errors import (
    AuthenticationFailed,
    ClientError,
    RateLimited,
    TransientError,
    ZendeskError,
)
from tap_zendesk.api.ratelimit import ACCOUNT, EXPORT, SEARCH, RateGovernor
from tap_zendesk.api.requester import Asker, Requester
from tap_zendesk.config.settings import Settings

API = "https://acme.zendesk.com/api/v2"
TOKEN = "s3cret-api-token"
CONFIG = {
    "url": "acme",
    "email": "admin@acme.com",
    "api_token": TOKEN,
    "start_date": "2024-01-01",
    "max_retries": 2,
    "outage_limit_seconds": 30,
}


class Clock:
    """Time that passes only when someone sleeps: waits are recorded, not spent."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclasses.dataclass
class Tally:
    requests: int = 0
    throttled: int = 0
    waited: float = 0.0
    outage: tuple[float, str] | None = None


class RenewingTokens:
    """OAuth tokens as the engine sees them: a bearer credential that can be renewed once."""

    def __init__(self) -> None:
        self.token = "expired-access-token"
        self.renewed_from: list[str] = []
        self.authenticator = BearerAuth(lambda: self.token)

    def renew(self, rejected: str, timeout: float | None = None) -> bool:
        self.renewed_from.append(rejected)
        self.token = "fresh-access-token"
        return True


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def engine(clock):
    return _engine(clock)


def _engine(clock, config=None, oauth=None):
    settings = Settings.from_config({**CONFIG, **(config or {})})
    ceilings = {ACCOUNT: None, EXPORT: None, SEARCH: None}
    governor = RateGovernor(ceilings, clock=clock, sleep=clock.sleep)
    logger = logging.getLogger("tap-zendesk-test")
    return Requester(settings, governor, logger, oauth=oauth, clock=clock, sleep=clock.sleep)


@pytest.fixture
def asker():
    return Asker("tickets", Tally(), forbidden_hint="the plan lacks it")


@pytest.fixture
def mock():
    with responses.RequestsMock() as mocked:
        yield mocked


def test_a_200_gives_the_parsed_json_and_counts_one_request(engine, asker, mock):
    calls = []
    asker.on_request = lambda: calls.append(1)
    mock.get(
        f"{API}/tickets.json",
        json={"tickets": [{"id": 1}]},
        match=[matchers.query_param_matcher({"page[size]": "100"})],
    )

    assert engine.get("/tickets.json", {"page[size]": 100}, asker) == {"tickets": [{"id": 1}]}

    sent = mock.calls[0].request
    assert sent.headers["Accept"] == "application/json"
    assert sent.headers["User-Agent"].startswith("tap-zendesk-upsert/")
    assert sent.headers["Authorization"].startswith("Basic ")
    assert (asker.tally.requests, len(calls)) == (1, 1)


def test_a_429_is_waited_out_for_as_long_as_retry_after_says(engine, asker, mock, clock):
    mock.get(f"{API}/tickets.json", status=429, headers={"Retry-After": "7"})
    mock.get(f"{API}/tickets.json", json={"tickets": []})

    assert engine.get("/tickets.json", {}, asker) == {"tickets": []}

    assert clock.sleeps == [7.0]  # the governor held the account bucket for 7 s
    assert (asker.tally.throttled, asker.tally.waited) == (1, 14.0)  # asked 7 + waited 7
    assert engine.governor.throttled == 1


def test_429s_for_over_an_hour_end_the_run_with_one_line(engine, asker, mock):
    mock.get(f"{API}/tickets.json", status=429, headers={"Retry-After": "1900"})

    with pytest.raises(ZendeskError, match="kept answering 429 Too Many Requests on /tickets"):
        engine.get("/tickets.json", {}, asker)


def test_a_5xx_is_retried_after_its_retry_after(engine, asker, mock, clock, caplog):
    mock.get(f"{API}/tickets.json", status=503, headers={"Retry-After": "12"})
    mock.get(f"{API}/tickets.json", json={"tickets": []})

    assert engine.get("/tickets.json", {}, asker) == {"tickets": []}

    assert clock.sleeps == [12.0]
    assert "retrying in 12.0s as Zendesk asked (Retry-After)" in caplog.text
    assert asker.tally.outage is None  # over once Zendesk answers


def test_409_is_a_database_conflict_and_retried(engine, asker, mock):
    mock.get(f"{API}/tickets.json", status=409, json={"error": "DatabaseConflict"})
    mock.get(f"{API}/tickets.json", json={"tickets": []})

    assert engine.get("/tickets.json", {}, asker) == {"tickets": []}


def test_an_outage_is_waited_out_until_outage_limit_seconds(engine, asker, mock, clock):
    mock.get(f"{API}/tickets.json", status=500)

    with pytest.raises(ZendeskError) as failure:
        engine.get("/tickets.json", {}, asker)

    assert str(failure.value).startswith("tickets: Zendesk kept failing on /tickets.json for")
    assert "past outage_limit_seconds (30)" in str(failure.value)
    assert sum(clock.sleeps) == pytest.approx(30)  # waited out exactly the limit, then stopped
    assert asker.tally.requests > CONFIG["max_retries"] + 1


def test_an_unreadable_body_is_retried_max_retries_times(engine, asker, mock):
    mock.get(f"{API}/tickets.json", body="<html>proxy error</html>", content_type="text/html")

    with pytest.raises(ZendeskError, match=r"still failing after 3 attempts \(unreadable"):
        engine.get("/tickets.json", {}, asker)
    assert asker.tally.requests == 3


def test_a_dropped_connection_is_retried(engine, asker, mock, caplog):
    mock.get(f"{API}/tickets.json", body=requests.exceptions.ConnectionError("reset"))
    mock.get(f"{API}/tickets.json", json={"tickets": []})

    assert engine.get("/tickets.json", {}, asker) == {"tickets": []}
    assert "the connection failed or was closed (attempt 1" in caplog.text


def test_an_untrusted_certificate_ends_the_run_at_once(engine, asker, mock):
    refused = requests.exceptions.SSLError(
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate"
    )
    mock.get(f"{API}/tickets.json", body=refused)

    with pytest.raises(ZendeskError, match=r"not trusted .*set ca_bundle"):
        engine.get("/tickets.json", {}, asker)
    assert asker.tally.requests == 1


def test_an_expired_oauth_token_is_renewed_once_and_the_request_sent_again(clock, asker, mock):
    tokens = RenewingTokens()
    engine = _engine(clock, {"auth_method": "oauth", "oauth_token": "x"}, oauth=tokens)
    mock.get(f"{API}/tickets.json", status=401, json={"error": "invalid_token"})
    mock.get(f"{API}/tickets.json", json={"tickets": []})

    assert engine.get("/tickets.json", {}, asker) == {"tickets": []}

    assert tokens.renewed_from == ["expired-access-token"]
    assert mock.calls[1].request.headers["Authorization"] == "Bearer fresh-access-token"


def test_a_refused_api_token_names_its_retirement_and_never_the_token(engine, asker, mock):
    mock.get(f"{API}/tickets.json", status=401, json={"error": "Couldn't authenticate you"})

    with pytest.raises(AuthenticationFailed) as failure:
        engine.get("/tickets.json", {}, asker)

    assert "30 April 2027" in str(failure.value)
    assert TOKEN not in str(failure.value)
    assert asker.tally.requests == 1  # a refusal is not retried


def test_a_403_says_what_the_user_lacks(engine, asker, mock):
    mock.get(f"{API}/slas/policies.json", status=403, json={"error": "Forbidden"})

    with pytest.raises(ClientError) as failure:
        engine.get("/slas/policies.json", {}, asker)

    assert failure.value.status == 403
    assert str(failure.value) == (
        "Zendesk answered 403 Forbidden for /slas/policies.json (Forbidden): the plan lacks it"
    )


def test_a_422_carries_zendesks_reason(engine, asker, mock):
    mock.get(
        f"{API}/search.json",
        status=422,
        json={"error": "InvalidValue", "description": "query is too long"},
    )

    with pytest.raises(ClientError) as failure:
        engine.get("/search.json", {"query": "x"}, asker)

    assert (failure.value.status, failure.value.reason) == (422, "InvalidValue: query is too long")


def test_a_404_without_json_means_the_url_is_not_zendesk(engine, asker, mock):
    mock.get(f"{API}/tickets.json", status=404, body="<html>Not here</html>")

    with pytest.raises(ZendeskError, match=r"nothing answers at https://acme\.zendesk\.com/api/v2"):
        engine.get("/tickets.json", {}, asker)


def test_a_redirect_is_not_followed_and_names_where_it_went(engine, asker, mock):
    mock.get(f"{API}/tickets.json", status=301, headers={"Location": "https://acme.example.com/x"})

    with pytest.raises(ZendeskError, match=r"redirected .* to https://acme\.example\.com; set url"):
        engine.get("/tickets.json", {}, asker)


def test_a_lone_surrogate_becomes_a_replacement_character(engine, asker, mock, caplog):
    mock.get(f"{API}/tickets.json", body='{"tickets": [{"subject": "Hi \\ud83d"}]}')

    body = engine.get("/tickets.json", {}, asker)

    assert body == {"tickets": [{"subject": "Hi \ufffd"}]}
    assert "1 text value(s) with a lone UTF-16 surrogate" in caplog.text


def test_a_page_that_keeps_timing_out_is_asked_for_smaller(engine, asker, mock):
    big = matchers.query_param_matcher({"per_page": "1000"})
    small = matchers.query_param_matcher({"per_page": "500"})
    mock.get(f"{API}/export.json", body=requests.exceptions.ReadTimeout(), match=[big])
    mock.get(f"{API}/export.json", json={"items": []}, match=[small])

    body = engine.get("/export.json", {"per_page": 1000}, asker, shrink=lambda: {"per_page": 500})

    assert body == {"items": []}
    assert [call.request.params["per_page"] for call in mock.calls] == ["1000", "1000", "500"]


@pytest.mark.parametrize(
    ("status", "raised"), [(429, RateLimited), (500, TransientError)], ids=["429", "500"]
)
def test_a_read_ahead_gives_up_at_the_first_429_or_failure(engine, asker, mock, status, raised):
    mock.get(f"{API}/groups.json", status=status, headers={"Retry-After": "5"})

    with pytest.raises(raised):
        engine.get("/groups.json", {}, asker, once=True)
    assert asker.tally.requests == 1
