"""OAuth access tokens for a run: obtained, renewed before they expire, and (for the
refresh_token grant) kept in a token store between runs (`token_store`).

Three ways to hold a token (`auth_method`):

- `client_credentials`: a confidential client makes its own access token from client_id and
  client_secret, at start and again shortly before each one expires. Nothing is stored.
- `oauth` with a refresh token (from the config, or from the store `tap-zendesk auth login`
  wrote): Zendesk answers every refresh with a new pair and deletes the previous one, so the
  new pair is written to the store (atomically, mode 600) *before* it is used; a marker
  written before each refresh lets the next run say exactly what happened if this one was
  killed between Zendesk's answer and that write. A file lock keeps two runs sharing a store
  from both spending the same refresh token.
- `oauth` with a bare `oauth_token`: sent as is, never renewed.

Tokens never appear in output or logs beyond the last four characters of a refresh token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
import typing as t

import requests

from tap_zendesk.api.auth import BearerAuth
from tap_zendesk.api.errors import AuthenticationFailed, zendesk_error_text
from tap_zendesk.api.token_store import LOGIN_HINT, TokenStore, token_store
from tap_zendesk.config.settings import tls_verify

if t.TYPE_CHECKING:
    from tap_zendesk.config.settings import OAuthClient, OAuthRefresh, Settings

# Renew this long before expiry: a third of the token's lifetime, at most five minutes
# (Zendesk's shortest access-token lifetime is five minutes, its default thirty).
MAX_RENEWAL_MARGIN_SECONDS = 300.0
_TRANSIENT_GRANT_ATTEMPTS = 4


def renewal_margin(lifetime: float) -> float:
    """Seconds before expiry at which a token of `lifetime` seconds is renewed."""
    return min(MAX_RENEWAL_MARGIN_SECONDS, max(lifetime, 0.0) / 3)


class GrantRefused(AuthenticationFailed):
    """Zendesk's token endpoint answered with an OAuth error (`error` holds its code)."""

    def __init__(self, message: str, error: str) -> None:
        super().__init__(message)
        self.error = error


def post_grant(
    base_url: str,
    fields: dict[str, str],
    timeout: float,
    *,
    retry: bool = False,
    verify: str | bool = True,
) -> dict[str, t.Any]:
    """`POST /oauth/tokens` with `fields`; the answer, or GrantRefused with Zendesk's reason.

    `retry` repeats the request through connection failures and 5xx: only for grants that
    can be asked again safely (client credentials), never a refresh that Zendesk may already
    have carried out.
    """
    url = f"{base_url}/oauth/tokens"
    attempts = _TRANSIENT_GRANT_ATTEMPTS if retry else 1
    for attempt in range(1, attempts + 1):
        try:
            response = requests.post(
                url, json=fields, timeout=timeout, allow_redirects=False, verify=verify
            )
        except requests.RequestException as exc:
            if attempt < attempts:
                time.sleep(2 ** (attempt - 1))
                continue
            msg = f"could not reach {url} for an OAuth access token ({type(exc).__name__})"
            raise AuthenticationFailed(msg) from None
        if response.status_code >= 500 and attempt < attempts:
            time.sleep(2 ** (attempt - 1))
            continue
        break
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code == 200 and isinstance(answer, dict) and answer.get("access_token"):
        return answer
    error = answer.get("error") if isinstance(answer, dict) else None
    reason = f"{response.status_code}: {zendesk_error_text(response)}"
    raise GrantRefused(reason, str(error or response.status_code))


class OAuthTokens:
    """The run's current access token, renewed before it expires (or once Zendesk says it
    did), shared by every stream and worker thread."""

    def __init__(self, settings: Settings, logger: logging.Logger) -> None:
        self._settings = settings
        self._logger = logger
        self._lock = threading.Lock()
        self._client: OAuthClient | None = settings.oauth_client
        self._refresh: OAuthRefresh | None = settings.oauth_refresh
        self.access_token: str | None = settings.credential or None
        self._renew_at: float | None = None  # epoch seconds; None: renewed only on a 401
        self._refresh_token: str | None = None
        self._origin: str | None = None
        # Refresh tokens older than this lineage that a config may still name.
        self._replaces: list[str] = []
        self._store: TokenStore | None = None
        if self._client is not None:
            self.access_token = None  # made on first use
        elif self._refresh is not None:
            self._store = TokenStore(token_store(settings))
            self._start_lineage(self._refresh)

    @property
    def method(self) -> str:
        """How this run's tokens are obtained, as the user configured it."""
        if self._client is not None:
            return "client_credentials"
        return "oauth (refresh token)" if self._refresh is not None else "oauth (access token)"

    @property
    def authenticator(self) -> BearerAuth:
        """Bearer auth that sends the current access token, renewed first if it is due."""
        return BearerAuth(self.current)

    def current(self) -> str:
        """The access token to send now."""
        token, renew_at = self.access_token, self._renew_at
        if token is not None and (renew_at is None or time.time() < renew_at):
            return token
        with self._lock:
            if self.access_token is None or (
                self._renew_at is not None and time.time() >= self._renew_at
            ):
                self._renew()
            return str(self.access_token)

    def renew(self, rejected: str, timeout: float | None = None) -> bool:
        """Zendesk refused `rejected` (401 invalid_token): renew it unless another request
        already did; False when this credential cannot be renewed."""
        del timeout  # the grant uses request_timeout, like every request
        with self._lock:
            if self.access_token != rejected:
                return True
            if self._client is None and self._refresh is None:
                return False
            self._renew(rejected=rejected)
            return True

    # ------------------------------------------------------------------ renewal

    def _renew(self, rejected: str | None = None) -> None:
        if self._client is not None:
            self._client_credentials(self._client)
        elif self._refresh is not None:
            self._rotate(self._refresh, rejected)

    def _client_credentials(self, client: OAuthClient) -> None:
        fields = {
            "grant_type": "client_credentials",
            "client_id": client.client_id,
            "client_secret": client.client_secret,
            "scope": client.scope,
        }
        try:
            answer = post_grant(
                self._settings.base_url,
                fields,
                self._settings.request_timeout,
                retry=True,
                verify=tls_verify(self._settings.ca_bundle),
            )
        except GrantRefused as exc:
            raise AuthenticationFailed(_client_refusal(client.client_id, exc)) from None
        self.access_token = str(answer["access_token"])
        lifetime = _seconds(answer.get("expires_in"))
        self._renew_at = (
            None if lifetime is None else time.time() + lifetime - renewal_margin(lifetime)
        )
        self._logger.info(
            "Obtained an OAuth access token for client %s (client credentials, scope %s)%s",
            client.client_id,
            answer.get("scope") or client.scope,
            "" if lifetime is None else f", valid for {lifetime:.0f}s",
        )

    def _start_lineage(self, refresh: OAuthRefresh) -> None:
        """Choose between the configured refresh token and the store's newer one."""
        assert self._store is not None
        saved = self._store.read()
        configured = _origin(refresh.refresh_token) if refresh.refresh_token else None
        if saved is not None and saved.get("client_id") not in (None, refresh.client_id):
            if configured is None:
                msg = (
                    f"the OAuth token store {self._store.path} holds tokens of client "
                    f"{saved.get('client_id')}, not {refresh.client_id}: set client_id back, "
                    f"or authorize this client with `{LOGIN_HINT}`"
                )
                raise AuthenticationFailed(msg)
            saved = None
        newer = [saved.get("origin"), *(saved.get("replaces") or [])] if saved else []
        if saved is not None and (configured is None or configured in newer):
            self._adopt(saved)
            self._logger.info("Using the OAuth tokens saved in %s", self._store.path)
            return
        if refresh.refresh_token is None:
            msg = (
                f"no OAuth refresh token: the token store {self._store.path} does not exist and "
                f"refresh_token is not set; authorize once with `{LOGIN_HINT}`, or set "
                "oauth_token_store to where that command saved it"
            )
            raise AuthenticationFailed(msg)
        self._refresh_token = refresh.refresh_token
        self._origin = configured
        self.access_token = self._settings.credential or None

    def _adopt(self, saved: dict[str, t.Any]) -> None:
        self._refresh_token = str(saved["refresh_token"])
        self._origin = saved.get("origin")
        self._replaces = list(saved.get("replaces") or [])
        access = saved.get("access_token")
        self.access_token = access if isinstance(access, str) and access else None
        renew_at = saved.get("access_token_renew_at")
        self._renew_at = float(renew_at) if isinstance(renew_at, (int, float)) else None

    def _rotate(self, refresh: OAuthRefresh, rejected: str | None) -> None:
        store = self._store
        assert store is not None
        with store.locked():
            # Another run sharing the store may have refreshed since: its pair is the live
            # one (ours was deleted with that refresh), and may need no refresh at all.
            saved = store.read()
            if saved is not None and saved.get("origin") == self._origin:
                if saved.get("refresh_token") != self._refresh_token:
                    self._adopt(saved)
                    if self.access_token not in (None, rejected) and (
                        self._renew_at is None or time.time() < self._renew_at
                    ):
                        self._logger.info("Using the OAuth tokens another run saved")
                        return
                interrupted = saved.get("refreshing_since")
            else:
                interrupted = None
            self._save(refreshing_since=_now_iso())
            fields = {
                "grant_type": "refresh_token",
                "refresh_token": str(self._refresh_token),
                "client_id": refresh.client_id,
            }
            if refresh.client_secret:
                fields["client_secret"] = refresh.client_secret
            try:
                answer = post_grant(
                    self._settings.base_url,
                    fields,
                    self._settings.request_timeout,
                    verify=tls_verify(self._settings.ca_bundle),
                )
            except GrantRefused as exc:
                raise AuthenticationFailed(
                    self._refresh_refusal(refresh, exc, interrupted)
                ) from None
            # Zendesk has deleted the previous pair: the new one goes to disk before any use.
            self.access_token = str(answer["access_token"])
            self._refresh_token = str(answer.get("refresh_token") or self._refresh_token)
            lifetime = _seconds(answer.get("expires_in"))
            self._renew_at = (
                None if lifetime is None else time.time() + lifetime - renewal_margin(lifetime)
            )
            refresh_life = _seconds(answer.get("refresh_token_expires_in"))
            self._save(
                refresh_expires_at=None if refresh_life is None else time.time() + refresh_life
            )
        self._logger.info(
            "Renewed the OAuth access token; Zendesk rotated the refresh token (now ...%s) and "
            "deleted the old one; the new tokens are saved in %s",
            self._refresh_token[-4:],
            store.path,
        )

    def _save(
        self, *, refreshing_since: str | None = None, refresh_expires_at: float | None = None
    ) -> None:
        assert self._store is not None
        content = {
            "origin": self._origin,
            "replaces": self._replaces,
            "client_id": self._refresh.client_id if self._refresh else None,
            "access_token": self.access_token,
            "access_token_renew_at": self._renew_at,
            "refresh_token": self._refresh_token,
            "refresh_token_expires_at": refresh_expires_at,
            "saved_at": _now_iso(),
            "refreshing_since": refreshing_since,
        }
        self._store.write(content)

    def _refresh_refusal(
        self, refresh: OAuthRefresh, exc: GrantRefused, interrupted: str | None
    ) -> str:
        assert self._store is not None
        if exc.error == "invalid_client":
            return _client_refusal(refresh.client_id, exc)
        why = (
            f"a run stopped at {interrupted} while renewing the tokens, after Zendesk may have "
            "replaced the refresh token and before the new one was saved, so the saved one is "
            "no longer valid"
            if interrupted
            else "it expired (unused for longer than its lifetime), was revoked, or was used by "
            "another program"
        )
        return (
            f"Zendesk refused the OAuth refresh token ({exc}): {why}; authorize again with "
            f"`{LOGIN_HINT}` (it saves the new token in {self._store.path})"
        )


def _client_refusal(client_id: str, exc: GrantRefused) -> str:
    if exc.error == "invalid_client":
        return (
            f"Zendesk refused the OAuth client {client_id} ({exc}): check client_id (the "
            "client's Unique identifier) and client_secret in Admin Center > Apps and "
            "integrations > APIs > OAuth clients"
        )
    if exc.error == "unauthorized_client":
        return (
            f"Zendesk does not let the OAuth client {client_id} use client credentials ({exc}): "
            "set its Client kind to Confidential in Admin Center > Apps and integrations > "
            "APIs > OAuth clients"
        )
    if exc.error == "invalid_scope":
        return f"Zendesk refused the OAuth scope ({exc}): set oauth_scope to read"
    return f"Zendesk refused an OAuth access token for client {client_id} ({exc})"


def origin_of(refresh_token: str) -> str:
    """Names a refresh token without revealing it."""
    return _origin(refresh_token)


def _origin(refresh_token: str) -> str:
    return hashlib.sha256(refresh_token.encode()).hexdigest()[:16]


def _seconds(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None
    return float(value)


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
