"""OAuth end to end: client credentials through many token lifetimes, a PKCE login through
the loopback redirect, rotation across runs on fresh runners, a refresh killed between
Zendesk's answer and the save, and two runs sharing one store."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.support.tap import TAP, TapRun, assert_no_secret_in, catalog_for, config_for

STREAMS = ("tickets", "users")


def oauth_config(emulator, **changes):
    """auth_method oauth with the emulator's confidential client and no static token."""
    creds = emulator.credentials
    settings = {
        "auth_method": "oauth",
        "email": None,
        "api_token": None,
        "client_id": creds["client_id"],
        "client_secret": creds["client_secret"],
    }
    return config_for(emulator, **{**settings, **changes})


def assert_everything_read(run: TapRun, emulator) -> None:
    assert run.returncode == 0, run.stderr
    for stream in STREAMS:
        assert sorted(run.ids(stream)) == sorted(emulator.dataset.ids(stream))


def test_a_client_credentials_sync_outlives_several_token_lifetimes_without_a_failure(
    emulator, run_tap
):
    catalog = catalog_for(config_for(emulator), STREAMS)
    emulator.configure(oauth_access_ttl=2)
    creds = emulator.credentials
    config = config_for(
        emulator,
        auth_method="client_credentials",
        email=None,
        api_token=None,
        client_id=creds["client_id"],
        client_secret=creds["client_secret"],
        # About 32 pages at 4 a second: some 8 s, four access-token lifetimes.
        page_size=15,
        rate_limit_per_minute=4,
        export_rate_limit_per_minute=4,
        rate_limit_window_seconds=1,
    )
    emulator.reset_stats()
    started = time.monotonic()

    run = run_tap(config, catalog=catalog)

    assert_everything_read(run, emulator)
    assert time.monotonic() - started > 3 * 2, "the sync must outlive several lifetimes"
    assert emulator.oauth.client_credentials_grants >= 4
    assert emulator.oauth.rejected_requests == 0
    statuses = emulator.stats["responses_by_status"]
    assert set(statuses) == {"200"}, statuses
    assert "Obtained an OAuth access token for client tap_zendesk_emulator" in run.stderr


def test_connection_test_names_the_method_and_the_user(emulator, run_tap):
    creds = emulator.credentials
    config = config_for(
        emulator,
        auth_method="client_credentials",
        email=None,
        api_token=None,
        client_id=creds["client_id"],
        client_secret=creds["client_secret"],
    )

    run = run_tap(config, args=["--test"])

    assert run.returncode == 0, run.stderr
    assert (
        f"Connection test: {emulator.url} accepted client_credentials, authenticated as "
        in run.stderr
    )
    assert "<admin@emulator.test> (admin)" in run.stderr

    token = run_tap(config_for(emulator), args=["--test"])
    assert token.returncode == 0, token.stderr
    assert "accepted api_token, authenticated as " in token.stderr


# PKCE login ---------------------------------------------------------------------------------


def login(config_path: Path, browser: requests.Session | None = None) -> TapRun:
    """`tap-zendesk auth login`, with a test client in the role of the user's browser."""
    command = [*TAP, "auth", "login", "--config", str(config_path), "--port", "0"]
    proc = subprocess.Popen(
        [*command, "--no-browser", "--timeout", "30"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if "/oauth/authorizations/new?" in line:
            # The browser opens the address; the signed-in admin clicks Allow; Zendesk
            # redirects to the loopback address, where the command receives the code.
            answer = (browser or requests.Session()).get(line.strip(), timeout=30)
            assert answer.status_code == 200, answer.text
            assert "you can close this tab" in answer.text
            break
    stdout, rest = proc.communicate(timeout=60)
    return TapRun(proc.returncode, stdout, "".join(lines) + rest)


@pytest.mark.parametrize("client", ["confidential", "public"])
def test_a_pkce_login_through_the_loopback_redirect_then_syncs(client, emulator, run_tap, tmp_path):
    store = tmp_path / "persistent" / "zendesk-oauth.json"
    creds = emulator.credentials
    if client == "public":
        config = oauth_config(emulator, client_id=creds["public_client_id"], client_secret=None)
    else:
        config = oauth_config(emulator)
    config["oauth_token_store"] = str(store)
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))

    done = login(config_path)

    assert done.returncode == 0, done.stderr
    assert_no_secret_in(done, [creds["client_secret"]])
    assert emulator.oauth.code_exchanges == 1
    assert "Authorized as " in done.stderr
    assert "<admin@emulator.test> (admin)" in done.stderr
    assert str(store) in done.stderr
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    saved = json.loads(store.read_text())
    assert saved["client_id"] == config["client_id"]
    assert saved["refresh_token"] in emulator.oauth.secrets_seen()

    run = run_tap(config, catalog=catalog_for(config_for(emulator), STREAMS))

    assert_everything_read(run, emulator)
    assert "Using the OAuth tokens saved in" in run.stderr


def test_a_login_with_a_wrong_state_or_no_answer_fails_with_one_line(emulator, tmp_path):
    config = oauth_config(emulator, oauth_token_store=str(tmp_path / "store.json"))
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))

    class ForgedState(requests.Session):
        def get(self, url, **kwargs):
            return super().get(url.replace("state=", "state=forged"), **kwargs)

    done = login(config_path, ForgedState())

    assert done.returncode == 1
    assert "tap-zendesk auth login: the answer on the redirect was not for this login" in (
        done.stderr
    )
    assert not (tmp_path / "store.json").exists()
    assert "Traceback" not in done.stderr


# Rotation across runs -----------------------------------------------------------------------


def test_tokens_rotate_across_two_runs_on_fresh_runners(emulator, run_tap, tmp_path):
    catalog = catalog_for(config_for(emulator), STREAMS)
    store = tmp_path / "volume" / "zendesk-oauth.json"
    # The config a deployment keeps: the refresh token first authorized, never updated.
    config = oauth_config(
        emulator,
        refresh_token=emulator.oauth.initial_refresh_token,
        oauth_token_store=str(store),
    )
    first_home, second_home = tmp_path / "runner1", tmp_path / "runner2"

    first = run_tap(config, catalog=catalog, env={"HOME": str(first_home)})

    assert_everything_read(first, emulator)
    assert emulator.oauth.refreshes == 1
    emulator.oauth.expire_access_token()

    # A fresh runner: a new home, nothing left but the store on its volume; Zendesk has
    # deleted the refresh token the config names.
    second = run_tap(config, catalog=catalog, env={"HOME": str(second_home)})

    assert_everything_read(second, emulator)
    assert emulator.oauth.refreshes == 2
    assert emulator.oauth.rejected_refreshes == 0
    assert json.loads(store.read_text())["refresh_token"] == emulator.oauth.refresh_token
    assert not any(p.is_file() for p in second_home.rglob("*"))


def test_two_runs_sharing_a_store_refresh_once(emulator, tmp_path):
    catalog = catalog_for(config_for(emulator), ["tickets"])
    store = tmp_path / "zendesk-oauth.json"
    config = oauth_config(
        emulator, refresh_token=emulator.oauth.refresh_token, oauth_token_store=str(store)
    )
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    command = [*TAP, "--config", str(tmp_path / "config.json")]
    command += ["--catalog", str(tmp_path / "catalog.json")]
    runs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [TapRun(p.returncode, *p.communicate(timeout=120)) for p in runs]

    for proc, run in zip(runs, results, strict=True):
        assert proc.returncode == 0, run.stderr
        assert sorted(run.ids("tickets")) == sorted(emulator.dataset.ids("tickets"))
        assert_no_secret_in(run, [config["client_secret"]])
    assert emulator.oauth.refreshes == 1
    assert emulator.oauth.rejected_refreshes == 0


# A refresh killed ---------------------------------------------------------------------------

# Runs the tap with one function slowed down so the test can SIGKILL it at that point:
# `save` pauses the write that follows Zendesk's answer to a refresh, `grant` pauses before
# the refresh request is sent.
_PAUSED_TAP = """
import os, sys, time
from tap_zendesk.api import oauth, token_store
flag, where = os.environ["PAUSE_FLAG"], os.environ["PAUSE_AT"]
def pause():
    open(flag, "w").close()
    time.sleep(600)
if where == "save":
    write = token_store.TokenStore.write
    def paused_write(self, content):
        if content.get("refreshing_since") is None:
            pause()
        return write(self, content)
    token_store.TokenStore.write = paused_write
else:
    grant = oauth.post_grant
    def paused_grant(*args, **kwargs):
        pause()
        return grant(*args, **kwargs)
    oauth.post_grant = paused_grant
from tap_zendesk.__main__ import main
sys.argv = ["tap-zendesk", *sys.argv[1:]]
main()
"""


def killed_during_refresh(where: str, config_path: Path, tmp_path: Path) -> TapRun:
    flag = tmp_path / f"paused-{where}"
    proc = subprocess.Popen(
        [sys.executable, "-c", _PAUSED_TAP, "--config", str(config_path), "--discover"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PAUSE_FLAG": str(flag), "PAUSE_AT": where},
    )
    deadline = time.monotonic() + 60
    while not flag.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the tap never reached the refresh"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=30)
    return TapRun(proc.returncode, stdout, stderr)


@pytest.fixture
def refresh_due(emulator, tmp_path):
    """A config whose first request must refresh (no access token), and its file."""
    config = oauth_config(
        emulator,
        refresh_token=emulator.oauth.refresh_token,
        oauth_token_store=str(tmp_path / "store" / "zendesk-oauth.json"),
    )
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return config, path


def test_killed_before_zendesk_answered_the_next_run_authenticates(
    emulator, run_tap, refresh_due, tmp_path
):
    config, path = refresh_due
    killed = killed_during_refresh("grant", path, tmp_path)
    assert killed.returncode == -signal.SIGKILL
    assert_no_secret_in(killed, [config["client_secret"], config["refresh_token"]])
    assert emulator.oauth.refreshes == 0

    run = run_tap(config, catalog=catalog_for(config_for(emulator), STREAMS))

    assert_everything_read(run, emulator)
    assert emulator.oauth.refreshes == 1


def test_killed_between_zendesks_answer_and_the_save_the_next_run_says_what_to_do(
    emulator, run_tap, refresh_due, tmp_path
):
    config, path = refresh_due
    killed = killed_during_refresh("save", path, tmp_path)
    assert killed.returncode == -signal.SIGKILL
    assert_no_secret_in(killed, [config["client_secret"], config["refresh_token"]])
    assert emulator.oauth.refreshes == 1  # Zendesk answered and deleted the old pair

    run = run_tap(config, catalog=catalog_for(config_for(emulator), STREAMS))

    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    line = run.error_lines[-1]
    assert "Zendesk refused the OAuth refresh token (400: invalid_grant" in line
    assert "a run stopped at" in line
    assert "before the new one was saved" in line
    assert "authorize again with `tap-zendesk auth login --config <your config file>`" in line
    assert str(tmp_path / "store" / "zendesk-oauth.json") in line

    # Doing what it says brings the pipeline back.
    done = login(path)
    assert done.returncode == 0, done.stderr
    again = run_tap(config, catalog=catalog_for(config_for(emulator), STREAMS))
    assert_everything_read(again, emulator)
