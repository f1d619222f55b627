"""`tap-zendesk auth login`: authorize the tap once, from the command line, with the OAuth
authorization code grant and PKCE, and leave the refresh token in the token store.

The command prints Zendesk's authorization address (and opens it in a browser when the
machine has a display), receives the code on a loopback redirect
(`http://127.0.0.1:<port>/callback`, which must be one of the OAuth client's Redirect URLs),
exchanges it with the PKCE verifier, and writes the tokens to `oauth_token_store`. Later runs
read the refresh token from there and rotate it. No token, code or verifier is ever printed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import queue
import secrets
import sys
import threading
import time
import typing as t
import webbrowser
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import click
import requests

from tap_zendesk.api.errors import ZendeskError
from tap_zendesk.api.oauth import GrantRefused, origin_of, post_grant, renewal_margin
from tap_zendesk.api.token_store import TokenStore, default_token_store
from tap_zendesk.config.address import base_url_of, tls_verify
from tap_zendesk.config.options import DEFAULTS

DEFAULT_PORT = 47219
_PAGE = (
    b"<!doctype html><html><body><p>Zendesk answered tap-zendesk; you can close this tab and "
    b"go back to the terminal.</p></body></html>"
)


@click.group(name="auth")
def auth() -> None:
    """Authorize tap-zendesk with Zendesk (OAuth)."""


@auth.command()
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The tap's config file: url, client_id, client_secret (confidential clients), "
    "oauth_token_store, oauth_scope.",
)
@click.option(
    "--port",
    default=DEFAULT_PORT,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Loopback port for the redirect; register http://127.0.0.1:<port>/callback as a "
    "Redirect URL of the OAuth client (0 picks a free port).",
)
@click.option("--no-browser", is_flag=True, help="Only print the address; open no browser.")
@click.option(
    "--timeout",
    default=300.0,
    show_default=True,
    type=click.FloatRange(min=1),
    help="Seconds to wait for Zendesk's answer.",
)
def login(config_path: Path, port: int, no_browser: bool, timeout: float) -> None:
    """Authorize once in a browser; save the refresh token in oauth_token_store."""
    try:
        message = run_login(config_path, port=port, open_browser=not no_browser, timeout=timeout)
    except ZendeskError as exc:
        click.echo(f"tap-zendesk auth login: {exc}", err=True)
        sys.exit(1)
    click.echo(message, err=True)


def run_login(config_path: Path, *, port: int, open_browser: bool, timeout: float) -> str:
    """Do the whole login; the line to print when it worked, ZendeskError when not."""
    config = _read_config(config_path)
    base_url, client_id, client_secret, scope, store_path = _login_settings(config)
    verifier = secrets.token_urlsafe(48)  # 64 characters: RFC 7636 asks for 43 to 128
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    state = secrets.token_urlsafe(16)
    answers: queue.Queue[dict[str, str]] = queue.Queue()
    server = _callback_server(port, answers)
    redirect_uri = f"http://127.0.0.1:{server.server_address[1]}/callback"
    address = f"{base_url}/oauth/authorizations/new?" + urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": state,
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    try:
        click.echo(
            "Open this address in a browser signed in to Zendesk as the user whose access the "
            "tap should have (an admin, for the incremental exports), and click Allow:",
            err=True,
        )
        click.echo(address, err=True)
        if open_browser and _has_display():
            webbrowser.open(address)
        try:
            answer = answers.get(timeout=timeout)
        except queue.Empty:
            msg = (
                f"no answer from Zendesk on {redirect_uri} within {timeout:.0f}s: open the "
                "address above, and check that this redirect URL is among the OAuth client's "
                "Redirect URLs"
            )
            raise ZendeskError(msg) from None
    finally:
        server.shutdown()
        server.server_close()
    if answer.get("state") != state:
        msg = "the answer on the redirect was not for this login (state differs): run it again"
        raise ZendeskError(msg)
    if "error" in answer or not answer.get("code"):
        msg = (
            f"Zendesk did not authorize the tap ({answer.get('error', 'no code')}"
            f"{': ' + answer['error_description'] if answer.get('error_description') else ''})"
            ": click Allow, or check the client's settings in Admin Center"
        )
        raise ZendeskError(msg)
    fields = {
        "grant_type": "authorization_code",
        "code": answer["code"],
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
        "scope": scope,
    }
    if client_secret:
        fields["client_secret"] = client_secret
    try:
        tokens = post_grant(
            base_url, fields, timeout=60, verify=tls_verify(config.get("ca_bundle"))
        )
    except GrantRefused as exc:
        msg = f"Zendesk refused the authorization code ({exc}): run the login again"
        raise ZendeskError(msg) from None
    if not tokens.get("refresh_token"):
        msg = "Zendesk issued no refresh token for this client: nothing to keep for later runs"
        raise ZendeskError(msg)
    _save(TokenStore(store_path), tokens, client_id, config.get("refresh_token"))
    who = _whoami(base_url, str(tokens["access_token"]))
    replaced = (
        "; remove refresh_token from the config (the store holds a newer one)"
        if config.get("refresh_token")
        else ""
    )
    return (
        f"Authorized{who}: the refresh token is saved in {store_path} (mode 600). Run the tap "
        f"with auth_method oauth, client_id{', client_secret' if client_secret else ''} and "
        f"oauth_token_store {store_path}{replaced}"
    )


def _read_config(path: Path) -> dict[str, t.Any]:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        msg = f"cannot read the config file {path} ({exc}): fix it"
        raise ZendeskError(msg) from None
    if not isinstance(config, dict):
        msg = f"the config file {path} must hold a JSON object"
        raise ZendeskError(msg)
    return config


def _login_settings(config: dict[str, t.Any]) -> tuple[str, str, str | None, str, Path]:
    try:
        base_url = base_url_of(config)
    except ValueError as exc:
        raise ZendeskError(str(exc)) from None
    client_id = config.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        msg = (
            "client_id is required: the Unique identifier of the OAuth client (Admin Center > "
            "Apps and integrations > APIs > OAuth clients)"
        )
        raise ZendeskError(msg)
    secret = config.get("client_secret") or None
    scope = " ".join(str(config.get("oauth_scope") or DEFAULTS["oauth_scope"]).split())
    store = config.get("oauth_token_store")
    path = Path(store).expanduser() if store else default_token_store(base_url)
    return base_url, client_id, secret, scope, path


def _callback_server(port: int, answers: queue.Queue[dict[str, str]]) -> HTTPServer:
    class Callback(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path != "/callback":
                self.send_error(404)
                return
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(_PAGE)))
            self.end_headers()
            self.wfile.write(_PAGE)
            answers.put(query)

        def log_message(self, fmt: str, *args: object) -> None:
            """Silent: the request line holds the authorization code."""

    try:
        return HTTPServer(("127.0.0.1", port), Callback)
    except OSError as exc:
        msg = f"cannot listen on 127.0.0.1:{port} for the redirect ({exc.strerror}): pick --port"
        raise ZendeskError(msg) from None


def _save(store: TokenStore, tokens: dict[str, t.Any], client_id: str, configured: object) -> None:
    now = time.time()
    lifetime = tokens.get("expires_in")
    refresh_life = tokens.get("refresh_token_expires_in")
    refresh_token = str(tokens["refresh_token"])
    content = {
        "origin": origin_of(refresh_token),
        # A refresh token still named in the config is older than this one: runs must not
        # prefer it over the store.
        "replaces": [origin_of(configured)] if isinstance(configured, str) and configured else [],
        "client_id": client_id,
        "access_token": str(tokens["access_token"]),
        "access_token_renew_at": (
            now + lifetime - renewal_margin(lifetime)
            if isinstance(lifetime, (int, float)) and lifetime > 0
            else None
        ),
        "refresh_token": refresh_token,
        "refresh_token_expires_at": (
            now + refresh_life if isinstance(refresh_life, (int, float)) else None
        ),
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now)),
        "refreshing_since": None,
    }
    with store.locked():
        store.write(content)


def _whoami(base_url: str, access_token: str) -> str:
    """` as <name> <email> (<role>)`, or "" when Zendesk does not say."""
    try:
        response = requests.get(
            f"{base_url}/api/v2/users/me.json",
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=60,
            allow_redirects=False,
        )
        user = response.json().get("user") if response.status_code == 200 else None
    except (requests.RequestException, ValueError, AttributeError):
        return ""
    return f" as {describe_user(user)}" if isinstance(user, dict) else ""


def describe_user(user: dict[str, t.Any]) -> str:
    """`Name <email> (role)` of a Zendesk user object."""
    name, email, role = user.get("name"), user.get("email"), user.get("role")
    text = " ".join(str(part) for part in (name, f"<{email}>" if email else None) if part)
    return f"{text or 'user ' + str(user.get('id'))}{f' ({role})' if role else ''}"


def _has_display() -> bool:
    # A text-mode browser would take over the terminal that shows the address.
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
