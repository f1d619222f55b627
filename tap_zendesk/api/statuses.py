"""What each Zendesk status means for a request: go on, wait, retry, or stop with a reason.

Statuses and their bodies are documented at
https://developer.zendesk.com/api-reference/introduction/requests/ (409, 429, 5xx, Retry-After)
and https://developer.zendesk.com/api-reference/introduction/rate-limits/ (the rate headers).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import typing as t
from urllib.parse import urlsplit

from tap_zendesk.api.auth import rejection_message
from tap_zendesk.api.errors import (
    AuthenticationFailed,
    ClientError,
    RateLimited,
    TransientError,
    ZendeskError,
    zendesk_error_text,
)
from tap_zendesk.api.ratelimit import endpoint_limits

if t.TYPE_CHECKING:
    import requests

    from tap_zendesk.config.settings import Settings

FALLBACK_RETRY_AFTER_SECONDS = 60.0


def check_status(
    response: requests.Response, settings: Settings, asker: str, forbidden_hint: str
) -> None:
    """Return for a 2xx; else raise what the status means, its message naming `asker`."""
    status = response.status_code
    if status < 300:
        return
    url_path = urlsplit(response.url).path
    where = f"{settings.base_url}{url_path}"
    if status == 429:
        raise RateLimited(retry_after(response), url_path, response.headers)
    # 409 is Zendesk's database conflict ("DatabaseConflict"): a collision with a concurrent
    # write that a later identical request gets past, so it is retried like a 5xx.
    if status >= 500 or status == 409:
        msg = f"{status} {response.reason} from Zendesk"
        raise TransientError(msg, server_retry_after(response), outage=True)
    if 300 <= status < 400:
        target = urlsplit(response.headers.get("Location", ""))
        msg = (
            f"{asker}: Zendesk redirected {where} to {target.scheme}://{target.netloc}; "
            "set url to the address your Zendesk account is served from"
        )
        raise ZendeskError(msg)
    text = zendesk_error_text(response)
    if status == 401:
        msg = rejection_message(settings, text)
        raise AuthenticationFailed(msg, token_rejected=_token_rejected(response))
    path = url_path.removeprefix(urlsplit(settings.api_url).path)
    if status == 403:
        msg = f"Zendesk answered 403 Forbidden for {path} ({text}): {forbidden_hint}"
        raise ClientError(msg, status, text)
    if status == 404 and "json" not in response.headers.get("Content-Type", ""):
        msg = (
            f"nothing answers at {where} (404 Not Found): check that url is your Zendesk "
            "address, e.g. https://acme.zendesk.com"
        )
        raise ZendeskError(msg)
    msg = f"{asker}: Zendesk answered {status} {response.reason} for {path}: {text}"
    raise ClientError(msg, status, text)


def retry_after(response: requests.Response) -> float:
    """Seconds Zendesk asks us to wait: Retry-After, else the rate-limit reset headers, else 60."""
    asked = server_retry_after(response)
    if asked is not None:
        return asked
    headers = response.headers
    for name in ("ratelimit-reset", "rate-limit-reset"):
        reset = headers.get(name, "").strip()
        if reset.isdigit():
            return float(reset)
    for _, _, left, resets in endpoint_limits(headers):
        if left == 0:
            return resets
    return FALLBACK_RETRY_AFTER_SECONDS


def server_retry_after(response: requests.Response) -> float | None:
    """Seconds a 5xx or 409 asks us to wait (its Retry-After), or None: then we back off.

    Unlike a 429, the rate-limit reset headers say nothing about when a failing server is
    back, so only Retry-After counts.
    """
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return float(value)
    if value:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is not None and when.tzinfo is not None:
            return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
    return None


def _token_rejected(response: requests.Response) -> bool:
    """Whether a 401 says the OAuth access token is no longer good (expired or revoked)."""
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("error") == "invalid_token"
