"""What can go wrong talking to Zendesk, as exceptions whose message is the line a user reads.

Every exception here carries a message that says what happened and what to fix, and never a
credential. The CLI prints that one line (the traceback only at DEBUG level) and exits non-zero.
"""

from __future__ import annotations

import json
import re
import typing as t

import requests


class ZendeskError(Exception):
    """A failure the user can act on; ``str(error)`` is the one line to show them."""


class AuthenticationFailed(ZendeskError):
    """Zendesk rejected the credential (401)."""

    def __init__(self, message: str, *, token_rejected: bool = False) -> None:
        super().__init__(message)
        # The OAuth access token expired or was revoked: a refresh may fix it.
        self.token_rejected = token_rejected


class ClientError(ZendeskError):
    """A 4xx other than 401 and 429: fatal, unless the stream or the caller skips that status.

    Streams skip 403 (and plan-gated ones 404) with a warning; reads of one ticket's children
    skip 403/404/422 for that ticket alone.
    """

    def __init__(self, message: str, status: int, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        # Zendesk's own explanation from the body, on one line.
        self.reason = reason


class RateLimited(Exception):
    """A 429: wait ``wait`` seconds and ask again. Never shown to users as a failure."""

    def __init__(self, wait: float, path: str, headers: t.Mapping[str, str] | None = None) -> None:
        super().__init__(f"rate limited on {path}; retry in {wait:g}s")
        self.wait = wait
        self.path = path
        # Which bucket ran out is in the response's rate-limit headers.
        self.headers = dict(headers or {})


class TransientError(Exception):
    """A failure worth retrying: 5xx, 409, a broken or unreadable body.

    ``wait`` is the pause the server asked for (its Retry-After), else None for backoff.
    ``outage``: the server is failing (5xx, 409), which is waited out for as long as
    outage_limit_seconds allows; a broken body is retried only max_retries times.
    """

    def __init__(self, message: str, wait: float | None = None, *, outage: bool = False) -> None:
        super().__init__(message)
        self.wait = wait
        self.outage = outage


_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")


def zendesk_error_text(response: requests.Response, limit: int = 300) -> str:
    """Zendesk's own explanation from an error body, in any of its shapes, on one line."""
    text = response.text or ""
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        parts = _error_parts(body)
        if parts:
            text = ": ".join(parts)
    text = _SPACES.sub(" ", _TAGS.sub(" ", text)).strip()
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text or response.reason or "no details"


def _error_parts(body: dict) -> list[str]:
    """Zendesk error bodies: {error, description}, {error: {title, message}}, {errors: [...]}."""
    error = body.get("error")
    if isinstance(error, dict):
        return [str(v) for k in ("title", "message") if (v := error.get(k))]
    if isinstance(body.get("errors"), list):
        return [
            ": ".join(
                str(e[k]) for k in ("code", "title", "detail") if isinstance(e, dict) and e.get(k)
            )
            for e in body["errors"]
        ]
    return [str(v) for k in ("error", "description", "error_description") if (v := body.get(k))]


class UnexpectedResponse(ZendeskError):
    """A 200 whose JSON does not have the shape the endpoint documents."""
