"""Settings from a config: the forms people paste work, and a bad value gets a message that
names the field to fix.

The command refusing a bad config before any request is tests/runs/test_bad_input.py.
"""

from __future__ import annotations

import datetime as dt

import pytest
from singer_sdk.exceptions import ConfigValidationError

from tap_zendesk.config.settings import Settings

GOOD = {"url": "acme", "email": "admin@acme.com", "api_token": "tok", "start_date": "2024-01-01"}


@pytest.mark.parametrize(
    ("url", "api_url"),
    [
        ("acme", "https://acme.zendesk.com/api/v2"),
        ("acme.zendesk.com", "https://acme.zendesk.com/api/v2"),
        ("https://acme.zendesk.com", "https://acme.zendesk.com/api/v2"),
        ("https://acme.zendesk.com/", "https://acme.zendesk.com/api/v2"),
        ("https://acme.zendesk.com/api/v2/", "https://acme.zendesk.com/api/v2"),
        ("https://support.acme.com", "https://support.acme.com/api/v2"),
        ("HTTPS://Support.Acme.com/api/v2", "https://support.acme.com/api/v2"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/api/v2"),
        ("http://localhost:9000/", "http://localhost:9000/api/v2"),
        ("http://[::1]:9000", "http://[::1]:9000/api/v2"),
    ],
)
def test_url_forms_people_paste_all_work(url, api_url):
    assert Settings.from_config({**GOOD, "url": url}).api_url == api_url


def test_subdomain_is_an_alias_of_url():
    config = {**GOOD, "subdomain": "acme"}
    del config["url"]
    assert Settings.from_config(config).api_url == "https://acme.zendesk.com/api/v2"


def test_days_back_counts_whole_utc_days():
    now = dt.datetime(2026, 3, 10, 15, 30, tzinfo=dt.UTC)
    config = {**GOOD, "start_date": None, "days_back": 7}
    assert Settings.from_config(config, now=now).start == dt.datetime(2026, 3, 3, tzinfo=dt.UTC)
    config["days_back"] = 0
    assert Settings.from_config(config, now=now).start == dt.datetime(2026, 3, 10, tzinfo=dt.UTC)


def test_start_date_accepts_dates_and_date_times():
    assert Settings.from_config(GOOD).start == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    offset = {**GOOD, "start_date": "2024-01-01T02:00:00+02:00"}
    assert Settings.from_config(offset).start == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"url": None}, "url is required"),
        ({"url": "http://acme.zendesk.com"}, "uses plain http: use https://"),
        ({"url": "ftp://acme.zendesk.com"}, "must start with https://"),
        ({"url": "https://acme.zendesk.com/agent/tickets"}, "has an unexpected path"),
        ({"url": "https://me:pw@acme.zendesk.com"}, "must not contain credentials"),
        ({"url": "acme..com"}, "is not a valid address"),
        ({"url": "acme", "subdomain": "other"}, "url and subdomain point at different"),
        ({"email": None}, "email is required when auth_method is api_token"),
        ({"email": "admin"}, "email must be the Zendesk user's email address"),
        ({"api_token": None}, "api_token is required when auth_method is api_token"),
        (
            {"api_token": None, "password": "pw"},
            "auth_method is api_token but api_token is not set (password is): set api_token, "
            "or set auth_method to password",
        ),
        ({"auth_method": "password"}, "auth_method is password but password is not set"),
        ({"auth_method": "oauth"}, "auth_method is oauth but oauth_token is not set"),
        (
            {"auth_method": "sso"},
            "auth_method 'sso' is not one of api_token, password, oauth, client_credentials",
        ),
        (
            {"auth_method": "client_credentials", "api_token": None},
            "client_secret is required when auth_method is client_credentials",
        ),
        (
            {"auth_method": "client_credentials", "client_secret": "s"},
            "client_id is required when auth_method is client_credentials",
        ),
        (
            {
                "auth_method": "client_credentials",
                "client_id": "c",
                "client_secret": "s",
                "refresh_token": "r",
            },
            "refresh_token only apply when auth_method is oauth",
        ),
        (
            {"auth_method": "oauth", "api_token": None},
            "oauth_token is required when auth_method is oauth, unless client_id and a refresh "
            "token are set: run `tap-zendesk auth login --config <config>`",
        ),
        ({"client_id": "c", "client_secret": "s"}, "only apply when auth_method is oauth or"),
        ({"oauth_scope": ""}, "oauth_scope must be Zendesk OAuth scopes separated by spaces"),
        ({"start_date": None}, "start_date or days_back is required"),
        ({"days_back": 3}, "set either start_date or days_back, not both"),
        ({"start_date": None, "days_back": -1}, "days_back must be a whole number >= 0"),
        ({"start_date": None, "days_back": "7"}, "days_back must be a whole number >= 0"),
        ({"start_date": "last tuesday"}, "is not a date or date-time"),
        ({"start_date": "2999-01-01"}, "is in the future"),
        ({"page_size": 0}, "page_size must be a whole number from 1 to 1000"),
        ({"page_size": 5000}, "page_size must be a whole number from 1 to 1000"),
        ({"request_timeout": 0}, "request_timeout must be a number of seconds > 0"),
        ({"max_retries": -2}, "max_retries must be a whole number from 0 to 100"),
        ({"ticket_scope": "bots"}, "ticket_scope 'bots' is not one of all, agent, ai_agent"),
    ],
)
def test_each_bad_value_gets_a_message_naming_it(change, message):
    config = {key: value for key, value in {**GOOD, **change}.items() if value is not None}
    with pytest.raises(ConfigValidationError) as raised:
        Settings.from_config(config)
    assert any(message in error for error in raised.value.errors), raised.value.errors


def test_numbers_read_from_a_config_file_as_decimals_are_accepted():
    """singer-sdk parses JSON numbers with a fraction as Decimal."""
    from decimal import Decimal

    settings = Settings.from_config(
        {**GOOD, "request_timeout": Decimal("2.5"), "rate_limit_per_minute": Decimal("700.0")}
    )
    assert settings.request_timeout == 2.5
    assert settings.rate_limit_per_minute == 700.0


def test_ticket_scope_defaults_to_every_ticket_and_takes_zendesks_values():
    """Zendesk's exports default to `agent`; AI-agent tickets would silently be missing."""
    assert Settings.from_config(GOOD).ticket_scope == "all"
    for scope in ("all", "agent", "ai_agent"):
        assert Settings.from_config({**GOOD, "ticket_scope": scope}).ticket_scope == scope


def test_client_credentials_needs_no_email_and_asks_for_read_by_default():
    config = {
        "url": "acme",
        "auth_method": "client_credentials",
        "client_id": "tap_zendesk",
        "client_secret": "s3cret",
        "start_date": "2024-01-01",
    }
    settings = Settings.from_config(config)
    assert settings.oauth_client is not None
    assert settings.oauth_client.scope == "read"
    assert "s3cret" not in repr(settings)


def test_oauth_with_only_a_client_id_reads_the_refresh_token_from_the_store():
    config = {"url": "acme", "auth_method": "oauth", "client_id": "c", "start_date": "2024-01-01"}
    settings = Settings.from_config(config)
    assert settings.oauth_refresh is not None
    assert settings.oauth_refresh.refresh_token is None
