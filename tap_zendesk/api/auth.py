"""Authenticators for the ways Zendesk accepts a caller, and what a refusal means for each.

Plain `requests.auth` classes, built from `Settings` alone: they hold the secret and put it
only in the Authorization header, never in a URL, a log line or a repr.
"""

from __future__ import annotations

import typing as t

import requests
from requests.auth import AuthBase, HTTPBasicAuth

from tap_zendesk.config.settings import Settings


class BearerAuth(AuthBase):
    """`Authorization: Bearer <token>` for OAuth access tokens."""

    def __init__(self, token: str | t.Callable[[], str]) -> None:
        # A callable gives the current token of one that is renewed during the run.
        self._token = token if callable(token) else lambda: token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Add the header to an outgoing request."""
        request.headers["Authorization"] = f"Bearer {self._token()}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth(token=<hidden>)"


class BasicAuth(HTTPBasicAuth):
    """HTTP Basic whose repr does not show the password."""

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r}, password=<hidden>)"


OAUTH_SETUP = (
    "create a confidential OAuth client and set auth_method to client_credentials with its "
    "client_id and client_secret (README, Authentication)"
)


def authenticator_for(settings: Settings) -> AuthBase:
    """API token: Basic `{email}/token:{token}`; password: Basic `{email}:{password}`."""
    if settings.auth_method in ("oauth", "client_credentials"):
        return BearerAuth(settings.credential)
    user = f"{settings.email}/token" if settings.auth_method == "api_token" else settings.email
    return BasicAuth(str(user), settings.credential)


def rejection_message(settings: Settings, zendesk_text: str) -> str:
    """The line for a 401: which credential Zendesk refused and what to do about it.

    Password access to the API ended in January 2026, and API tokens are being retired (unused
    ones deactivated after 30 days since 28 July 2026, all of them on 30 April 2027), so a
    refusal of either names that retirement and the OAuth setup that replaces it.
    """
    where = settings.base_url
    if settings.auth_method == "password":
        return (
            f"Zendesk refused password access for {settings.email} at {where} "
            f"({zendesk_text}): Zendesk turned off email and password for its API in January "
            f"2026; {OAUTH_SETUP}"
        )
    if settings.auth_method == "api_token":
        return (
            f"authentication failed for {settings.email} at {where} ({zendesk_text}): the API "
            "token is wrong or Zendesk deactivated it (tokens unused for 30 days are "
            "deactivated, and every API token stops working on 30 April 2027); "
            f"{OAUTH_SETUP}"
        )
    if settings.auth_method == "client_credentials":
        return (
            f"authentication failed for the OAuth client's access token at {where} "
            f"({zendesk_text}): Zendesk refused a token it had just issued; check that the "
            "client and its creator are still active in Admin Center"
        )
    return (
        f"authentication failed for the OAuth token at {where}: check auth_method and the "
        f"credential ({zendesk_text}); an expired token is renewed only with a refresh token: "
        f"authorize with `tap-zendesk auth login --config <your config file>`, or {OAUTH_SETUP}"
    )
