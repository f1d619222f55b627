"""Renewing an expired OAuth access token with the refresh_token grant.

Zendesk answers 401 `invalid_token` once an access token expires. The tap then asks
`POST /oauth/tokens` for a new pair, once, and retries the request. Zendesk deletes the old
pair on every refresh, so the new refresh token must outlive the run: it is written (mode 600)
to the token store, which the next run reads as long as its config still names the refresh
token the store descends from (a freshly authorized token in the config wins). Tokens never
appear in output or logs beyond their last four characters.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import threading
import typing as t
from pathlib import Path
from urllib.parse import urlsplit

import requests

from tap_zendesk.auth import BearerAuth
from tap_zendesk.errors import AuthenticationFailed, zendesk_error_text

if t.TYPE_CHECKING:
    from tap_zendesk.settings import OAuthRefresh, Settings


class OAuthTokens:
    """The run's current access token, renewed when Zendesk says it expired."""

    def __init__(self, settings: Settings, logger: logging.Logger) -> None:
        self._settings = settings
        self._refresh = settings.oauth_refresh
        self._logger = logger
        self._lock = threading.Lock()
        self.access_token = settings.credential
        self._refresh_token = self._refresh.refresh_token if self._refresh else None
        self._store = token_store(settings)
        if self._refresh and (saved := self._saved(self._refresh)):
            self.access_token, self._refresh_token = saved

    @property
    def authenticator(self) -> BearerAuth:
        """Bearer auth that always sends the current access token."""
        return BearerAuth(lambda: self.access_token)

    def renew(self, rejected: str, timeout: float) -> bool:
        """Replace `rejected` with a fresh access token; False when there is no way to."""
        with self._lock:
            if self.access_token != rejected:
                return True  # another request renewed it meanwhile
            if self._refresh is None:
                return False
            answer = self._grant(self._refresh, timeout)
            self.access_token = answer["access_token"]
            rotated = answer.get("refresh_token")
            self._logger.info("Renewed the expired OAuth access token")
            if rotated and rotated != self._refresh_token:
                self._refresh_token = rotated
                self._save(self._refresh, rotated)
            return True

    def _grant(self, refresh: OAuthRefresh, timeout: float) -> dict[str, t.Any]:
        request = {
            "grant_type": "refresh_token",
            "refresh_token": self._refresh_token,
            "client_id": refresh.client_id,
        }
        if refresh.client_secret:
            request["client_secret"] = refresh.client_secret
        url = f"{self._settings.base_url}/oauth/tokens"
        try:
            response = requests.post(url, json=request, timeout=timeout, allow_redirects=False)
        except requests.RequestException as exc:
            msg = f"could not reach {url} to renew the OAuth access token ({type(exc).__name__})"
            raise AuthenticationFailed(msg) from None
        try:
            answer = response.json() if response.status_code == 200 else None
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or not answer.get("access_token"):
            msg = (
                f"Zendesk refused to renew the OAuth access token ({response.status_code}: "
                f"{zendesk_error_text(response)}): authorize the OAuth client again and set the "
                "new oauth_token and refresh_token"
            )
            raise AuthenticationFailed(msg)
        return answer

    def _saved(self, refresh: OAuthRefresh) -> tuple[str, str] | None:
        """The store's tokens, if they descend from the configured refresh token."""
        try:
            saved = json.loads(self._store.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(saved, dict) or saved.get("origin") != _origin(refresh):
            return None
        access, renewal = saved.get("access_token"), saved.get("refresh_token")
        if not (isinstance(access, str) and isinstance(renewal, str)):
            return None
        self._logger.info("Using the OAuth tokens saved in %s by an earlier run", self._store)
        return access, renewal

    def _save(self, refresh: OAuthRefresh, refresh_token: str) -> None:
        content = {
            "origin": _origin(refresh),
            "access_token": self.access_token,
            "refresh_token": refresh_token,
            "saved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        self._store.parent.mkdir(parents=True, exist_ok=True)
        partial = self._store.with_name(self._store.name + ".partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(content, file)
        partial.replace(self._store)
        self._logger.warning(
            "Zendesk rotated the OAuth refresh token (now ...%s) and deleted the old one; the "
            "new tokens are saved in %s (mode 600) for the next run: keep that file, or put "
            "them in your secret store",
            refresh_token[-4:],
            self._store,
        )


def token_store(settings: Settings) -> Path:
    """oauth_token_store, else a file per account under the user's config directory."""
    refresh = settings.oauth_refresh
    if refresh is not None and refresh.token_store:
        return Path(refresh.token_store).expanduser()
    home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    host = urlsplit(settings.base_url).netloc.replace(":", "_")
    return home / "tap-zendesk" / f"oauth-{host}.json"


def _origin(refresh: OAuthRefresh) -> str:
    """Names the configured refresh token without revealing it."""
    return hashlib.sha256(refresh.refresh_token.encode()).hexdigest()[:16]
