"""Bad input, case by case: one line that says what to fix, a non-zero exit, no traceback.

Each case runs the real tap process against the emulator. Where the tap skips instead of
failing (a stream the account may not read), it warns and exits 0. Any STATE it printed is
still one a rerun can use.
"""

from __future__ import annotations

import base64
import dataclasses
import typing as t

import pytest

from tap_zendesk.state import state_problems
from tests.emulator import FaultRule
from tests.support.tap import catalog_for, config_for

TICKETS_EXPORT = "/api/v2/incremental/tickets/cursor.json"
NOT_SET = None


@dataclasses.dataclass
class Case:
    """A bad input: what to change, and the line the user must get."""

    config: dict[str, t.Any] = dataclasses.field(default_factory=dict)
    message: str = ""
    state: dict[str, t.Any] | None = None
    catalog: t.Any = None
    emulator: dict[str, t.Any] = dataclasses.field(default_factory=dict)
    fault: str | None = None
    exit_code: int = 1
    streams: tuple[str, ...] = ("tickets", "organizations")
    # A config the tap refuses before its first request: nothing on stdout, nothing sent.
    before_any_request: bool = False


def _cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# Refused while the config is read: the tap prints and sends nothing.
CONFIG_CASES = {
    "url missing": Case({"url": NOT_SET}, "url is required"),
    "url plain http": Case({"url": "http://acme.zendesk.com"}, "uses plain http: use https://"),
    "url with a path": Case({"url": "https://acme.zendesk.com/agent"}, "has an unexpected path"),
    "url with credentials": Case({"url": "https://a:b@acme.zendesk.com"}, "must not contain"),
    "url not an address": Case({"url": "acme..com"}, "is not a valid address"),
    "email missing": Case({"email": NOT_SET}, "email is required when auth_method is api_token"),
    "email malformed": Case({"email": "admin"}, "email must be the Zendesk user's email"),
    "auth mismatch": Case(
        {"api_token": NOT_SET, "password": "pw-1234"},
        "auth_method is api_token but api_token is not set (password is)",
    ),
    "auth method unknown": Case({"auth_method": "sso"}, "auth_method 'sso' is not one of"),
    "oauth without token": Case({"auth_method": "oauth"}, "oauth_token is not set"),
    "start_date and days_back": Case({"days_back": 3}, "set either start_date or days_back"),
    "no start": Case({"start_date": NOT_SET}, "start_date or days_back is required"),
    "negative days_back": Case(
        {"start_date": NOT_SET, "days_back": -1}, "days_back must be a whole number >= 0"
    ),
    "start_date garbage": Case({"start_date": "soon"}, "is not a date or date-time"),
    "start_date in the future": Case({"start_date": "2999-01-01"}, "is in the future"),
    "page_size zero": Case({"page_size": 0}, "page_size must be a whole number from 1 to 1000"),
    "timeout negative": Case({"request_timeout": -1}, "request_timeout must be a number"),
    "comments source unknown": Case({"comments_source": "x"}, "comments_source 'x' is not one"),
    "ticket scope unknown": Case(
        {"ticket_scope": "bots"}, "ticket_scope 'bots' is not one of all, agent, ai_agent"
    ),
}
CASES = {
    **{
        name: dataclasses.replace(case, before_any_request=True)
        for name, case in CONFIG_CASES.items()
    },
    # State
    "state not an object": Case(state=[1], message="the state must be a JSON object"),
    "bookmarks not an object": Case(state={"bookmarks": []}, message="must be an object"),
    "cursor not a string": Case(
        state={"bookmarks": {"tickets": {"cursor": 5}}},
        message="state.bookmarks.tickets.cursor is 5, not a str",
    ),
    "end_time not a number": Case(
        state={"bookmarks": {"organizations": {"end_time": "yesterday"}}},
        message="state.bookmarks.organizations.end_time is 'yesterday', not a int",
    ),
    "cursor Zendesk rejects": Case(
        state={"bookmarks": {"tickets": {"cursor": _cursor("not a cursor")}}},
        message="Zendesk rejected the saved cursor: remove bookmarks.tickets.cursor",
    ),
    # Catalog
    # No metadata means selected, by the SDK's rules.
    "catalog selecting an unknown stream": Case(
        catalog={"streams": [{"tap_stream_id": "tickets_v9", "metadata": []}]},
        message="it selects streams this config does not define: tickets_v9; deselect them, "
        "add their search_queries back, or run --discover",
    ),
    "catalog not a catalog": Case(catalog=[], message="must be an object with a list of streams"),
    # HTTP
    "wrong api token": Case({"api_token": "wrong-token"}, "authentication failed for"),
    "wrong oauth token": Case(
        {"auth_method": "oauth", "oauth_token": "wrong-oauth", "email": NOT_SET},
        "authentication failed for the OAuth token",
    ),
    # Zendesk turned password access off in January 2026 (the emulator's default).
    "password access retired": Case(
        {"api_token": NOT_SET, "auth_method": "password", "password": "pw-anything"},
        "Zendesk turned off email and password for its API in January 2026; create a "
        "confidential OAuth client and set auth_method to client_credentials",
    ),
    "password right but retired": Case(
        {"api_token": NOT_SET, "auth_method": "password", "password": "<emulator password>"},
        "Zendesk turned off email and password for its API in January 2026",
    ),
    "api token deactivated": Case(
        message="Zendesk deactivated it (tokens unused for 30 days are deactivated, and every "
        "API token stops working on 30 April 2027); create a confidential OAuth client and set "
        "auth_method to client_credentials",
        emulator={"api_token_active": False},
    ),
    "client credentials with a wrong secret": Case(
        {
            "auth_method": "client_credentials",
            "api_token": NOT_SET,
            "email": NOT_SET,
            "client_id": "tap_zendesk_emulator",
            "client_secret": "wrong-secret",
        },
        "Zendesk refused the OAuth client tap_zendesk_emulator (401: invalid_client",
    ),
    "client credentials with a public client": Case(
        {
            "auth_method": "client_credentials",
            "api_token": NOT_SET,
            "email": NOT_SET,
            "client_id": "tap_zendesk_emulator_public",
            "client_secret": "any-secret",
        },
        "set its Client kind to Confidential",
    ),
    "403 on tickets": Case(
        message="tickets is never skipped when selected: give the tap a Zendesk admin's",
        emulator={"forbidden_paths": ["/api/v2/incremental/tickets"]},
    ),
    "403 on a plan-gated stream": Case(
        message="Skipping stream 'ticket_forms': Zendesk answered 403 Forbidden",
        emulator={"forbidden_paths": ["/api/v2/ticket_forms"]},
        streams=("tickets", "ticket_forms"),
        exit_code=0,
    ),
    "404 for the whole account": Case(
        message="Zendesk answered 404",
        emulator={"missing_paths": ["/api/v2/"]},
    ),
    "html body with 200": Case(
        {"max_retries": 1},
        "still failing after 2 attempts (unreadable response body",
        fault="html_200",
    ),
    "empty body with 200": Case(
        {"max_retries": 1},
        "still failing after 2 attempts (unreadable response body",
        fault="empty_200",
    ),
    "json of the wrong shape": Case(message="unexpected response", fault="wrong_shape"),
    "redirect to another host": Case(message="Zendesk redirected", fault="redirect"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_gets_one_line_and_a_clear_exit(case: Case, emulator, run_tap):
    catalog = case.catalog
    if catalog is None:
        # Discovered first: the case's emulator settings may refuse the credential itself.
        catalog = catalog_for(config_for(emulator), case.streams)
    emulator.configure(**case.emulator)
    if case.fault:
        emulator.add_faults(FaultRule(path_prefix=TICKETS_EXPORT, kind=case.fault, count=10))
    config = config_for(emulator, **case.config)
    if config.get("password") == "<emulator password>":
        config["password"] = emulator.credentials["password"]

    emulator.reset_stats()
    run = run_tap(config, state=case.state, catalog=catalog)

    assert run.returncode == case.exit_code, run.stderr
    assert case.message in run.stderr
    assert "Traceback" not in run.stderr
    if case.before_any_request:
        assert run.stdout == ""
        assert emulator.stats["total_requests"] == 0
    if case.exit_code:
        assert any(case.message in line for line in run.error_lines), run.error_lines
    for state in run.states:
        assert state_problems(state) == []


def _with_search(
    catalog: dict[str, t.Any], config: dict[str, t.Any], name: str, selected: bool
) -> dict[str, t.Any]:
    """`catalog` plus the entry an earlier `config` with the search `name` discovered."""
    earlier = {**config, "search_queries": [{"name": name, "query": "type:ticket"}]}
    entry = next(
        e for e in catalog_for(earlier, [])["streams"] if e["tap_stream_id"] == f"search_{name}"
    )
    for item in entry["metadata"]:
        if item["breadcrumb"] == []:
            item["metadata"]["selected"] = selected
    return {"streams": [*catalog["streams"], entry]}


@pytest.mark.parametrize("selected", [False, True])
def test_a_search_stream_the_config_no_longer_defines(selected: bool, emulator, run_tap):
    config = config_for(emulator)
    catalog = _with_search(catalog_for(config, ["tickets"]), config, "old", selected)

    run = run_tap(config, catalog=catalog)

    assert "Traceback" not in run.stderr
    if selected:
        assert run.returncode == 1
        assert run.error_lines[-1].endswith(
            "the catalog file cannot be used: it selects streams this config does not define: "
            "search_old; deselect them, add their search_queries back, or run --discover"
        )
        assert run.messages == []
    else:
        assert run.returncode == 0, run.stderr
        assert sorted(run.ids("tickets")) == sorted(emulator.dataset.ids("tickets"))
        assert "search_old" not in {m.get("stream") for m in run.messages}
        warning = [line for line in run.stderr.splitlines() if "search_old" in line]
        assert len(warning) == 1, warning
        assert "WARNING" in warning[0]
        assert "all deselected: search_old" in warning[0]


def test_a_config_file_that_is_not_json_is_refused(run_tap):
    run = run_tap("{url: acme")

    assert run.returncode != 0
    assert run.stdout == ""
