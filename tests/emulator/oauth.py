"""Zendesk's OAuth refresh-token grant: `POST /oauth/tokens` and expiring access tokens.

A successful refresh returns a new access token and a new refresh token and deletes the
previous pair, as Zendesk announced for the refresh_token grant (2025).
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
from typing import Any
from urllib.parse import parse_qsl

_INVALID_GRANT = {
    "error": "invalid_grant",
    "error_description": (
        "The provided authorization grant or refresh token is invalid, expired, revoked, does "
        "not match the redirection URI used in the authorization request, or was issued to "
        "another client."
    ),
}
_INVALID_CLIENT = {
    "error": "invalid_client",
    "error_description": "Client authentication failed due to unknown client.",
}


class OAuthTokens:
    """The account's one OAuth client and the token pair currently valid for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.client_id = "tap_zendesk_emulator"
        self.client_secret = f"emu-secret-{secrets.token_hex(16)}"
        self.access_token = f"emu-oauth-{secrets.token_hex(16)}"
        self.refresh_token = f"emu-refresh-{secrets.token_hex(16)}"
        self.refreshes = 0
        self.rejected_refreshes = 0

    def valid(self, token: str) -> bool:
        """Whether `token` is the live access token."""
        with self._lock:
            return hmac.compare_digest(token.encode(), self.access_token.encode())

    def expire_access_token(self) -> None:
        """The access token stops working (it expired); the refresh token still works."""
        with self._lock:
            self.access_token = f"emu-expired-{secrets.token_hex(16)}"

    def grant(self, body: bytes) -> tuple[int, dict[str, Any]]:
        """Answer `POST /oauth/tokens` (JSON or form body) with a status and a JSON payload."""
        fields = _fields(body)
        with self._lock:
            if fields.get("grant_type") != "refresh_token":
                return 400, {"error": "unsupported_grant_type", "error_description": "Unknown"}
            if fields.get("client_id") != self.client_id or not hmac.compare_digest(
                str(fields.get("client_secret", "")).encode(), self.client_secret.encode()
            ):
                self.rejected_refreshes += 1
                return 401, _INVALID_CLIENT
            if not hmac.compare_digest(
                str(fields.get("refresh_token", "")).encode(), self.refresh_token.encode()
            ):
                self.rejected_refreshes += 1
                return 400, _INVALID_GRANT
            self.access_token = f"emu-oauth-{secrets.token_hex(16)}"
            self.refresh_token = f"emu-refresh-{secrets.token_hex(16)}"
            self.refreshes += 1
            return 200, {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "token_type": "bearer",
                "scope": "read",
                "expires_in": 172_800,
                "refresh_token_expires_in": 7_776_000,
            }


def _fields(body: bytes) -> dict[str, Any]:
    text = body.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        try:
            payload = json.loads(text)
        except ValueError:
            return {}
        return payload if isinstance(payload, dict) else {}
    return dict(parse_qsl(text))
