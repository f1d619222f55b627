"""OAuth: an expired access token is renewed once with the refresh token and the request
retried; the rotated refresh token is kept (mode 600) for the next run, never printed in full."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tests.support.tap import catalog_for, config_for

STREAMS = ("tickets", "users")


@pytest.fixture
def oauth_config(emulator, tmp_path):
    creds = emulator.credentials
    return config_for(
        emulator,
        auth_method="oauth",
        email=None,
        api_token=None,
        oauth_token=creds["oauth_token"],
        refresh_token=creds["refresh_token"],
        client_id=creds["client_id"],
        client_secret=creds["client_secret"],
        oauth_token_store=str(tmp_path / "tokens" / "zendesk.json"),
    )


@pytest.fixture
def sync(emulator, run_tap):
    """Run the tap on a catalog discovered before any token expires (discovery reads the
    field definitions, so it would renew the token itself)."""
    catalog = catalog_for(config_for(emulator), STREAMS)
    return lambda config: run_tap(config, catalog=catalog)


def test_an_expired_token_is_renewed_once_and_nothing_is_lost(emulator, sync, oauth_config):
    emulator.oauth.expire_access_token()

    run = sync(oauth_config)

    assert run.returncode == 0, run.stderr
    assert emulator.oauth.refreshes == 1
    assert sorted(run.ids("tickets")) == sorted(emulator.dataset.ids("tickets"))
    assert sorted(run.ids("users")) == sorted(emulator.dataset.ids("users"))


def test_the_rotated_tokens_are_saved_privately_and_never_printed(emulator, sync, oauth_config):
    emulator.oauth.expire_access_token()

    run = sync(oauth_config)

    store = oauth_config["oauth_token_store"]
    saved = json.loads(Path(store).read_text(encoding="utf-8"))
    assert saved["refresh_token"] == emulator.oauth.refresh_token
    assert saved["access_token"] == emulator.oauth.access_token
    assert stat.S_IMODE(Path(store).stat().st_mode) == 0o600
    for token in (emulator.oauth.refresh_token, emulator.oauth.access_token):
        assert token not in run.stdout
        assert token not in run.stderr
    assert f"now ...{emulator.oauth.refresh_token[-4:]}" in run.stderr
    assert store in run.stderr


def test_the_next_run_uses_the_saved_tokens_though_zendesk_deleted_the_configured_ones(
    emulator, sync, oauth_config
):
    emulator.oauth.expire_access_token()
    sync(oauth_config)

    again = sync(oauth_config)

    assert again.returncode == 0, again.stderr
    assert emulator.oauth.refreshes == 1
    assert sorted(again.ids("tickets")) == sorted(emulator.dataset.ids("tickets"))


def test_without_a_refresh_token_an_expired_token_stops_with_one_line(emulator, sync):
    config = config_for(
        emulator,
        auth_method="oauth",
        email=None,
        api_token=None,
        oauth_token=emulator.credentials["oauth_token"],
    )
    emulator.oauth.expire_access_token()

    run = sync(config)

    assert run.returncode == 1
    assert "authentication failed" in run.error_lines[-1]


def test_a_refused_client_secret_names_the_client_and_where_to_check_it(
    emulator, sync, oauth_config
):
    emulator.oauth.expire_access_token()

    run = sync({**oauth_config, "client_secret": "not-the-secret"})

    assert run.returncode == 1
    assert emulator.oauth.refreshes == 0
    assert "Zendesk refused the OAuth client tap_zendesk_emulator" in run.error_lines[-1]
    assert "invalid_client" in run.error_lines[-1]
    assert "check client_id" in run.error_lines[-1]


def test_refresh_settings_need_oauth_and_a_client_id(emulator, run_tap):
    token_config = config_for(emulator, refresh_token="r-token-1234")
    run = run_tap(token_config, args=["--discover"])
    assert run.returncode != 0
    assert "only apply when auth_method is oauth" in run.stderr

    creds = emulator.credentials
    oauth_only = config_for(
        emulator,
        auth_method="oauth",
        api_token=None,
        oauth_token=creds["oauth_token"],
        refresh_token=creds["refresh_token"],
    )
    run = run_tap(oauth_only, args=["--discover"])
    assert run.returncode != 0
    assert "client_id must be set too" in run.stderr


def test_a_sync_with_parallel_per_ticket_reads_renews_an_expired_token_once(
    emulator, run_tap, oauth_config
):
    config = {**oauth_config, "comments_source": "per_ticket", "parallel_requests": 8}
    catalog = catalog_for(config_for(emulator, comments_source="per_ticket"), ["ticket_comments"])
    emulator.oauth.expire_access_token()

    run = run_tap(config, catalog=catalog)

    assert run.returncode == 0, run.stderr
    assert emulator.oauth.refreshes == 1
    assert emulator.oauth.rejected_refreshes == 0
    assert run.records("ticket_comments")
