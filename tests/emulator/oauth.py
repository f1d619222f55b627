"""Zendesk's OAuth server: `POST /oauth/tokens` for three grants, `GET
/oauth/authorizations/new`, and access tokens that expire.

Sources (cited below by key):

- GT: API reference "OAuth Tokens for Grant Types",
  https://developer.zendesk.com/api-reference/ticketing/oauth/grant_type_tokens/ — one endpoint
  for the authorization_code, refresh_token and client_credentials grants; body fields
  grant_type, code, client_id, client_secret, redirect_uri, scope, code_verifier, expires_in,
  refresh_token_expires_in; a code is valid for 120 seconds; the answer holds access_token,
  token_type "bearer" and scope.
- RT: announcement "OAuth refresh token grant type and OAuth access and refresh token
  expirations", https://support.zendesk.com/hc/en-us/articles/9182123625370 — a refresh returns
  a new access *and* refresh token and deletes the previous pair; expires_in and
  refresh_token_expires_in may be passed to shorten the lifetimes.
- TTL: "Announcing the required expiration of global OAuth access and refresh tokens",
  https://support.zendesk.com/hc/en-us/articles/10212201463962 — access token 30 minutes by
  default (5 min to 48 h), refresh token 30 days (7 to 90 days).
- PKCE: "Using PKCE to make Zendesk OAuth access tokens more secure",
  https://developer.zendesk.com/documentation/ticketing/working-with-oauth/oauth-pkce/ —
  code_challenge and code_challenge_method=S256 on
  `https://{subdomain}.zendesk.com/oauth/authorizations/new`, code_verifier on the exchange.
- CC: "Using OAuth authentication with your application", section "OAuth client credentials
  grant type", https://support.zendesk.com/hc/en-us/articles/4408845965210 — only confidential
  clients; the token is made from the client secret alone.
- GR: "Announcing the removal of OAuth 2.0 grant types for Support",
  https://support.zendesk.com/hc/en-us/articles/8302546989466 — password and implicit grants
  refused since 17 Feb 2025.
- RFC: RFC 6749 (OAuth 2.0) §4.1.2 (redirect with code and state), §4.4.3 (client
  credentials: no refresh token), §5.2 (error codes); RFC 7636 §4.6 (S256 check).

Zendesk's exact error_description texts are not documented; the `invalid_grant` body is the
shape quoted in https://nango.dev/blog/zendesk-oauth-refresh-token-invalid-grant (400,
{"error": "invalid_grant", "error_description": …}). Lifetimes shorter than TTL's minimums are
allowed here so tests can compress hours into seconds.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import secrets
import threading
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

# TTL: the default lifetimes.
DEFAULT_ACCESS_TTL = 30 * 60
DEFAULT_REFRESH_TTL = 30 * 86_400
# GT: "an authorization code valid for 120 seconds".
CODE_TTL = 120

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
# RFC §5.2: a grant the client may not use; CC: client credentials need a confidential client.
_UNAUTHORIZED_CLIENT = {
    "error": "unauthorized_client",
    "error_description": "The client is not authorized to use this grant type.",
}
_UNSUPPORTED_GRANT = {
    "error": "unsupported_grant_type",
    "error_description": "The authorization grant type is not supported.",
}


@dataclasses.dataclass(frozen=True)
class Client:
    """An OAuth client as Admin Center registers it (identifier, secret, kind)."""

    identifier: str
    secret: str | None
    kind: str  # "confidential" or "public" (OAuth Clients API, `kind`)


@dataclasses.dataclass
class _Access:
    client_id: str
    scope: str
    expires_at: float
    refresh_token: str | None


@dataclasses.dataclass
class _Refresh:
    client_id: str
    scope: str
    expires_at: float
    access_token: str


@dataclasses.dataclass
class _Code:
    client_id: str
    redirect_uri: str
    scope: str
    challenge: str | None
    expires_at: float


class OAuthTokens:
    """The account's OAuth clients and every token and code issued to them.

    `access_token` / `refresh_token` are the newest pair of the lineage that began with the
    pair issued at start (what a config written before the run names); tests read them to
    check rotation.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.access_ttl: float = DEFAULT_ACCESS_TTL
        self.refresh_ttl: float = DEFAULT_REFRESH_TTL
        self.confidential = Client(
            "tap_zendesk_emulator", f"emu-secret-{secrets.token_hex(16)}", "confidential"
        )
        self.public = Client("tap_zendesk_emulator_public", None, "public")
        self._clients = {c.identifier: c for c in (self.confidential, self.public)}
        self._access: dict[str, _Access] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._codes: dict[str, _Code] = {}
        # Every secret value that crossed this server: a test asserts none reaches any output.
        self._seen: set[str] = {self.confidential.secret or ""}
        self.refreshes = 0
        self.rejected_refreshes = 0
        self.client_credentials_grants = 0
        self.code_exchanges = 0
        self.rejected_requests = 0
        with self._lock:
            self.access_token, self.refresh_token = self._issue_pair(self.confidential, "read")
        self.initial_access_token, self.initial_refresh_token = (
            self.access_token,
            self.refresh_token,
        )

    @property
    def client_id(self) -> str:
        return self.confidential.identifier

    @property
    def client_secret(self) -> str:
        return self.confidential.secret or ""

    def secrets_seen(self) -> list[str]:
        """Every token, code, verifier and client secret this server issued or received."""
        with self._lock:
            return sorted(s for s in self._seen if s)

    def configure(self, access_ttl: float | None = None, refresh_ttl: float | None = None) -> None:
        """Set the lifetimes of tokens issued from now on (seconds)."""
        with self._lock:
            if access_ttl is not None:
                self.access_ttl = float(access_ttl)
            if refresh_ttl is not None:
                self.refresh_ttl = float(refresh_ttl)

    # ------------------------------------------------------------------ resource side

    def valid(self, token: str) -> bool:
        """Whether `token` is a live access token (issued, not deleted, not expired)."""
        with self._lock:
            access = self._access.get(token)
            alive = access is not None and time.time() < access.expires_at
            if not alive:
                self.rejected_requests += 1
            return alive

    def expire_access_token(self) -> None:
        """Every access token stops working (it expired); refresh tokens still work."""
        with self._lock:
            for access in self._access.values():
                access.expires_at = 0.0

    # ------------------------------------------------------------------ /oauth/authorizations/new

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str]]:
        """The user's answer on the authorization page, as a status and its details.

        The emulator stands for an admin who is signed in and clicks Allow: Zendesk then
        redirects the browser to redirect_uri with `code` and `state` (RFC §4.1.2). A request
        whose client or redirect_uri cannot be trusted is answered on the page itself (400),
        never by a redirect.
        """
        client = self._clients.get(query.get("client_id", ""))
        redirect_uri = query.get("redirect_uri", "")
        if client is None:
            return 400, {"error": "invalid_client"}
        if not _loopback_redirect(redirect_uri):
            # Assumption: a real client registers its Redirect URLs in Admin Center; this
            # emulator's clients register every loopback http address (RFC 8252 §7.3).
            return 400, {"error": "invalid_redirect_uri"}
        back: dict[str, str] = {}
        if "state" in query:
            back["state"] = query["state"]
        challenge = query.get("code_challenge")
        method = query.get("code_challenge_method")
        if query.get("response_type") != "code":
            back["error"] = "unsupported_response_type"
        elif challenge and method != "S256":
            back["error"] = "invalid_request"
        elif client.kind == "public" and not challenge:
            back["error"] = "invalid_request"  # PKCE: public clients must send a challenge
        else:
            code = f"emu-code-{secrets.token_hex(16)}"
            with self._lock:
                self._codes[code] = _Code(
                    client.identifier,
                    redirect_uri,
                    query.get("scope") or "read",
                    challenge,
                    time.time() + CODE_TTL,
                )
                self._seen.add(code)
            back["code"] = code
        separator = "&" if urlsplit(redirect_uri).query else "?"
        return 302, {"Location": redirect_uri + separator + urlencode(back)}

    # ------------------------------------------------------------------ POST /oauth/tokens

    def grant(self, body: bytes) -> tuple[int, dict[str, Any]]:
        """Answer `POST /oauth/tokens` (JSON or form body) with a status and a JSON payload."""
        fields = {k: str(v) for k, v in _fields(body).items()}
        with self._lock:
            self._seen.update(
                fields[k]
                for k in ("code", "code_verifier", "refresh_token", "client_secret")
                if fields.get(k)
            )
            grant_type = fields.get("grant_type")
            if grant_type not in ("refresh_token", "authorization_code", "client_credentials"):
                return 400, _UNSUPPORTED_GRANT  # GR: password and implicit grants are gone
            client = self._clients.get(fields.get("client_id", ""))
            if client is None or (
                client.secret is not None
                and not _same(fields.get("client_secret", ""), client.secret)
            ):
                if grant_type == "refresh_token":
                    self.rejected_refreshes += 1
                return 401, _INVALID_CLIENT
            if grant_type == "client_credentials":
                return self._client_credentials(client, fields)
            if grant_type == "authorization_code":
                return self._code_exchange(client, fields)
            return self._rotate(client, fields)

    def _client_credentials(self, client: Client, fields: dict[str, str]) -> tuple[int, Any]:
        if client.kind != "confidential":
            return 400, _UNAUTHORIZED_CLIENT
        token = f"emu-cc-{secrets.token_hex(16)}"
        scope = fields.get("scope") or "read"
        lifetime = self._lifetime(fields, "expires_in", self.access_ttl)
        self._access[token] = _Access(client.identifier, scope, time.time() + lifetime, None)
        self._seen.add(token)
        self.client_credentials_grants += 1
        # RFC §4.4.3: no refresh token for this grant; a client asks again instead.
        return 200, {
            "access_token": token,
            "token_type": "bearer",
            "scope": scope,
            "expires_in": int(lifetime),
        }

    def _code_exchange(self, client: Client, fields: dict[str, str]) -> tuple[int, Any]:
        code = self._codes.pop(fields.get("code", ""), None)  # single use (RFC §4.1.2)
        if (
            code is None
            or time.time() >= code.expires_at
            or code.client_id != client.identifier
            or code.redirect_uri != fields.get("redirect_uri")
            or (code.challenge is not None and not _pkce_ok(fields, code.challenge))
        ):
            return 400, _INVALID_GRANT
        self.code_exchanges += 1
        access, refresh = self._issue_pair(client, code.scope, fields)
        return 200, self._pair_answer(access, refresh)

    def _rotate(self, client: Client, fields: dict[str, str]) -> tuple[int, Any]:
        given = fields.get("refresh_token", "")
        refresh = self._refresh.get(given)
        if refresh is None or time.time() >= refresh.expires_at:
            self.rejected_refreshes += 1
            return 400, _INVALID_GRANT
        if refresh.client_id != client.identifier:
            self.rejected_refreshes += 1
            return 400, _INVALID_GRANT
        # RT: a successful refresh deletes the previous access and refresh token.
        del self._refresh[given]
        self._access.pop(refresh.access_token, None)
        access, renewed = self._issue_pair(client, refresh.scope, fields)
        if given == self.refresh_token:
            self.access_token, self.refresh_token = access, renewed
        self.refreshes += 1
        return 200, self._pair_answer(access, renewed)

    def _issue_pair(
        self, client: Client, scope: str, fields: dict[str, str] | None = None
    ) -> tuple[str, str]:
        fields = fields or {}
        access = f"emu-oauth-{secrets.token_hex(16)}"
        refresh = f"emu-refresh-{secrets.token_hex(16)}"
        now = time.time()
        access_life = self._lifetime(fields, "expires_in", self.access_ttl)
        refresh_life = self._lifetime(fields, "refresh_token_expires_in", self.refresh_ttl)
        self._access[access] = _Access(client.identifier, scope, now + access_life, refresh)
        self._refresh[refresh] = _Refresh(client.identifier, scope, now + refresh_life, access)
        self._seen.update((access, refresh))
        return access, refresh

    def _pair_answer(self, access: str, refresh: str) -> dict[str, Any]:
        entry, renewal = self._access[access], self._refresh[refresh]
        now = time.time()
        return {
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "bearer",
            "scope": entry.scope,
            "expires_in": max(0, round(entry.expires_at - now)),
            "refresh_token_expires_in": max(0, round(renewal.expires_at - now)),
        }

    @staticmethod
    def _lifetime(fields: dict[str, str], name: str, default: float) -> float:
        # RT: a client may ask for a shorter lifetime than the account's.
        asked = fields.get(name, "")
        return min(float(asked), default) if asked.isdigit() else default


def _pkce_ok(fields: dict[str, str], challenge: str) -> bool:
    """RFC 7636 §4.6: BASE64URL(SHA256(code_verifier)) without padding equals the challenge."""
    verifier = fields.get("code_verifier", "")
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return bool(verifier) and _same(expected, challenge)


def _loopback_redirect(uri: str) -> bool:
    parts = urlsplit(uri)
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _fields(body: bytes) -> dict[str, Any]:
    text = body.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        try:
            payload = json.loads(text)
        except ValueError:
            return {}
        return payload if isinstance(payload, dict) else {}
    return dict(parse_qsl(text))
