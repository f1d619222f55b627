"""Authenticators for the three ways Zendesk accepts a caller.

Plain `requests.auth` classes, built from `Settings` alone: they hold the secret and put it
only in the Authorization header, never in a URL, a log line or a repr.
"""

from __future__ import annotations

import typing as t

import requests
from requests.auth import AuthBase, HTTPBasicAuth

from tap_zendesk.settings import Settings


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


def authenticator_for(settings: Settings) -> AuthBase:
    """API token: Basic `{email}/token:{token}`; password: Basic `{email}:{password}`."""
    if settings.auth_method == "oauth":
        return BearerAuth(settings.credential)
    user = f"{settings.email}/token" if settings.auth_method == "api_token" else settings.email
    return BasicAuth(str(user), settings.credential)
