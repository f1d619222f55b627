"""The HTTP side of the emulator: routing, auth, error bodies, faults and admin endpoints.

Everything answered under ``/api/v2`` imitates Zendesk (each handler cites its page of
https://developer.zendesk.com/api-reference/ or a recorded response); everything under
``/__emulator`` is test control and needs no auth. Incremental exports draw on both the account
and the export rate-limit buckets, every other endpoint on the account bucket only. Responses
are written in one ``sendall`` with TCP_NODELAY so keep-alive clients never wait on
Nagle/delayed-ACK stalls, which would otherwise dominate a benchmark of many small pages.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import re
import secrets
import socket
import socketserver
import ssl
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sized
from contextlib import suppress
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlencode, urlsplit

from .admin import ROUTES as ACCOUNT_LIST_ROUTES
from .admin import AccountLists
from .catalog import organization_fields, user_fields
from .dataset import (
    ACTIVITY_KINDS,
    ADMIN_EMAIL,
    ALL_SUPPORT_TYPES,
    DEFAULT_SUPPORT_TYPE_SCOPE,
    KINDS,
    SUPPORT_TYPE_SCOPES,
    Dataset,
    check_scope,
    encode,
)
from .exports import (
    DEFAULT_PER_PAGE,
    InvalidCursorError,
    clamp_per_page,
    decode_cursor,
    encode_cursor,
    start_position,
)
from .faults import Fault, FaultInjector, FaultRule, check_settings
from .limits import RateLimiter, check_limit, check_time_scale
from .listing import PaginationError, cursor_page, list_page, single_page
from .oauth import OAuthTokens
from .search import CONFIG_KEYS as SEARCH_CONFIG_KEYS
from .search import Search
from .sideloads import METRIC_SETS_STYLES, parse_include, render

log = logging.getLogger(__name__)

JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"

# (kind, style) per canonical path; ".json" is optional on the wire: the reference pages give the
# paths without it, their curl examples with it (e.g.
# https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/).
ROUTES = {
    "/api/v2/incremental/tickets/cursor": ("tickets", "cursor"),
    "/api/v2/incremental/users/cursor": ("users", "cursor"),
    "/api/v2/incremental/tickets": ("tickets", "time"),
    "/api/v2/incremental/users": ("users", "time"),
    "/api/v2/incremental/organizations": ("organizations", "time"),
    "/api/v2/incremental/ticket_events": ("ticket_events", "time"),
    "/api/v2/incremental/ticket_metric_events": ("ticket_metric_events", "time"),
    "/api/v2/ticket_fields": ("ticket_fields", "catalog"),
    "/api/v2/ticket_forms": ("ticket_forms", "catalog"),
    "/api/v2/user_fields": ("user_fields", "catalog"),
    "/api/v2/organization_fields": ("organization_fields", "catalog"),
    "/api/v2/search": ("search", "search_list"),
    "/api/v2/search/export": ("search", "search_export"),
    "/api/v2/search/count": ("search", "search_count"),
    "/api/v2/groups": ("groups", "list"),
    "/api/v2/brands": ("brands", "list"),
    **{path: (kind, "account_list") for path, kind in ACCOUNT_LIST_ROUTES.items()},
}
# Per-ticket lists: /api/v2/tickets/{id}/comments and /api/v2/tickets/{id}/audits.
_TICKET_LIST = re.compile(r"/api/v2/tickets/(\d+)/(comments|audits)")

CONFIG_KEYS = (
    "account_limit",
    "export_limit",
    "time_scale",
    "password_enabled",
    "api_token_active",
    "oauth_access_ttl",
    "oauth_refresh_ttl",
    "forbidden_paths",
    "missing_paths",
    "stuck_end_time",
    "capped_same_second",
    "fault_rate",
    "fault_kinds",
    "fault_seed",
    "slow_seconds",
    *SEARCH_CONFIG_KEYS,
    "metric_sets_style",
)

_ENCODER = json.JSONEncoder(separators=(",", ":"))
_ACCOUNT_429 = b"Number of allowed API requests per minute exceeded"
_EXPORT_429 = {
    "error": "APIRateLimitExceeded",
    "description": "Number of allowed incremental export API requests per minute exceeded",
}
_BASIC_401 = {"error": "Couldn't authenticate you"}
_BEARER_401 = {
    "error": "invalid_token",
    "error_description": (
        "The access token provided is expired, revoked, malformed or invalid for other reasons."
    ),
}
_FORBIDDEN = {
    "error": {
        "title": "Forbidden",
        "message": (
            "You do not have access to this page. Please contact the account owner of this help"
            " desk for further help."
        ),
    }
}
_NOT_FOUND = {"error": "InvalidEndpoint", "description": "Not found"}
_RECORD_NOT_FOUND = {"error": "RecordNotFound", "description": "Not found"}
# Assumption: Zendesk's body for an undecodable incremental cursor is not recorded; this
# mirrors the InvalidValue style the incremental endpoints use for bad start_time values.
_BAD_CURSOR = {"error": "InvalidCursor", "description": "Invalid cursor"}
# Cursor pages of the metric events export hold at most 100
# (https://developer.zendesk.com/api-reference/ticketing/tickets/ticket_metric_events/).
METRIC_EVENTS_MAX_PAGE_SIZE = 100
# The exports documented to take support_type_scope (dataset.SUPPORT_TYPE_SCOPES); the others
# serve every ticket's data whatever is asked.
_SCOPED_KINDS = ("tickets", "ticket_events")
_GATEWAY_TITLES = {
    500: "500 Internal Server Error",
    502: "502 Bad Gateway",
    503: "503 Service Unavailable",
    504: "504 Gateway Time-out",
}
_MAINTENANCE = b"<html><body>Maintenance</body></html>"
# Zendesk's status codes page: a 503 may carry Retry-After, the seconds to wait before trying
# again (https://developer.zendesk.com/api-reference/introduction/requests/). Kept short so a
# test that honours it stays fast, yet longer than the first backoff step (≤ 1 s) so honouring
# it shows.
MAINTENANCE_RETRY_AFTER = 2
# A 409 as recorded in zendesk/zendesk_api_client_php#314 (PUT /api/v2/tickets/{id}.json):
# a collision of concurrent writes, which the same request retried gets past.
_DATABASE_CONFLICT = {"error": "DatabaseConflict", "description": "Database collision"}
# Where a ``redirect`` fault points: another loopback host, so a client that follows it
# reaches nothing (the emulator listens on one address only).
REDIRECT_HOST = "127.0.0.2"
_HTML_404 = (
    b"<!DOCTYPE html><html><head><title>The page you were looking for doesn't exist"
    b" (404)</title></head><body><h1>404 Not Found</h1><p>The page you were looking for"
    b" doesn't exist.</p></body></html>"
)


class Response(NamedTuple):
    """A complete response, built before any byte is written so faults can reshape it."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


def json_response(
    status: int, payload: Any, headers: list[tuple[str, str]] | None = None
) -> Response:
    body = _ENCODER.encode(payload).encode()
    return Response(status, [("Content-Type", JSON_TYPE), *(headers or [])], body)


def _invalid(
    description: str, status: int = 400, headers: list[tuple[str, str]] | None = None
) -> Response:
    return json_response(status, {"error": "InvalidValue", "description": description}, headers)


def _html(status: int, body: bytes) -> Response:
    return Response(status, [("Content-Type", HTML_TYPE)], body)


def _alt(path: str) -> str:
    """The same path with ".json", so prefixes match whichever form the client sent."""
    return path if path.endswith(".json") else path + ".json"


def _canonical(path: str) -> str:
    path = path[:-5] if path.endswith(".json") else path
    return path.rstrip("/") or "/"


class _Stats:
    """Counters for assertions such as "the client retried exactly twice"."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._paths: Counter[str] = Counter()
            self._statuses: Counter[str] = Counter()
            self._throttled: Counter[str] = Counter()
            self._faults: Counter[str] = Counter()
            self._includes: Counter[tuple[str, str]] = Counter()
            self._scopes: Counter[tuple[str, str]] = Counter()

    def request(self, path: str) -> None:
        with self._lock:
            self._paths[path] += 1

    def response(self, status: int) -> None:
        with self._lock:
            self._statuses[str(status)] += 1

    def throttled(self, bucket: str) -> None:
        with self._lock:
            self._throttled[bucket] += 1

    def fault(self, kind: str) -> None:
        with self._lock:
            self._faults[kind] += 1

    def included(self, path: str, include: str) -> None:
        with self._lock:
            self._includes[path, include] += 1

    def scoped(self, path: str, scope: str) -> None:
        with self._lock:
            self._scopes[path, scope] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total_requests": sum(self._paths.values()),
                "requests_by_path": dict(self._paths),
                "responses_by_status": dict(self._statuses),
                "rate_limited": {"account": 0, "export": 0, **self._throttled},
                "rate_limited_total": sum(self._throttled.values()),
                "faults_by_kind": dict(self._faults),
                "faults_total": sum(self._faults.values()),
                "include_by_path": {
                    path: {v: n for (p, v), n in self._includes.items() if p == path}
                    for path, _ in self._includes
                },
                # support_type_scope values sent, per path; requests without it are not counted.
                "scope_by_path": {
                    path: {v: n for (p, v), n in self._scopes.items() if p == path}
                    for path, _ in self._scopes
                },
            }


class Emulator:
    """A local Zendesk Support API for tests: in-process, on 127.0.0.1, one port per instance.

    See the package docstring for the behaviours; ``configure`` changes them at runtime.
    """

    def __init__(
        self,
        tickets: int = 300,
        users: int = 80,
        organizations: int = 30,
        seed: int = 7,
        time_scale: float = 60.0,
        account_limit: int | None = None,
        export_limit: int | None = None,
        password_enabled: bool = False,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.dataset = Dataset(tickets=tickets, users=users, organizations=organizations, seed=seed)
        self.limiter = RateLimiter(time_scale, account_limit, export_limit)
        self.faults = FaultInjector()
        # Zendesk turned password access to the API off in January 2026 ("Deprecation of
        # password access for APIs", support.zendesk.com/hc/en-us/articles/9941874259354):
        # refused unless a test about the legacy method itself opts in.
        self.password_enabled = bool(password_enabled)
        # API tokens unused for 30 days are deactivated since 28 Jul 2026, and all stop on 30
        # Apr 2027 (developer.zendesk.com/documentation/api-basics/authentication/
        # oauth-migration/); False makes this account's token one of those.
        self.api_token_active = True
        self.forbidden_paths: tuple[str, ...] = ()
        # Endpoints the account's plan lacks (e.g. ticket forms): 404 instead of 403.
        self.missing_paths: tuple[str, ...] = ()
        self.stuck_end_time = False
        self.capped_same_second = False
        # Export pages of more items than this time out (504) instead of being served: the
        # heaviest answers (ticket events with whole comments, 1000 a page) are the ones a
        # gateway gives up on, while smaller pages of the same data pass.
        self.heaviest_page: int | None = None
        # Titles given to fields since the dataset was built (rename_field), by field id.
        self._field_titles: dict[int, str] = {}
        self.search = Search(self.dataset, self.limiter)
        # Memberships, tags, business rules, ratings, deleted tickets (admin.py).
        self.account_lists = AccountLists(self.dataset)
        # How include=metric_sets answers: on each ticket, or as one top-level array.
        self.metric_sets_style = METRIC_SETS_STYLES[0]
        self._host = host
        self._port = port
        # Serve HTTPS with this context (tests of private CAs and proxies); plain HTTP else.
        self._tls = tls
        self._url: str | None = None
        self.oauth = OAuthTokens()
        self._credentials = {
            "email": ADMIN_EMAIL,
            "api_token": f"emu-tok-{secrets.token_hex(12)}",
            "password": f"emu-pw-{secrets.token_hex(8)}",
            "oauth_token": self.oauth.access_token,
            "refresh_token": self.oauth.refresh_token,
            "client_id": self.oauth.client_id,
            "client_secret": self.oauth.client_secret,
            "public_client_id": self.oauth.public.identifier,
        }
        self._stats = _Stats()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> Emulator:
        """Bind and serve in a daemon thread; idempotent."""
        if self._server is not None:
            return self
        server = _Server((self._host, self._port), self)
        host, port = server.server_address[:2]
        scheme = "http"
        if self._tls is not None:
            # The handshake happens in each handler thread, so a client that rejects the
            # certificate only ends its own connection.
            server.socket = self._tls.wrap_socket(
                server.socket, server_side=True, do_handshake_on_connect=False
            )
            scheme = "https"
        self._url = f"{scheme}://{host}:{port}"
        self.dataset.rebase(self._url)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"zendesk-emulator-{port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and cut open keep-alive connections so no thread lingers on them."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("Emulator.start() has not been called")
        return self._url

    @property
    def credentials(self) -> dict[str, str]:
        return dict(self._credentials)

    # ----------------------------------------------------------------- control

    @property
    def config(self) -> dict[str, Any]:
        return {
            "account_limit": self.limiter.account_limit,
            "export_limit": self.limiter.export_limit,
            "time_scale": self.limiter.time_scale,
            "password_enabled": self.password_enabled,
            "api_token_active": self.api_token_active,
            "oauth_access_ttl": self.oauth.access_ttl,
            "oauth_refresh_ttl": self.oauth.refresh_ttl,
            "forbidden_paths": list(self.forbidden_paths),
            "missing_paths": list(self.missing_paths),
            "stuck_end_time": self.stuck_end_time,
            "capped_same_second": self.capped_same_second,
            "metric_sets_style": self.metric_sets_style,
            "fault_rate": self.faults.fault_rate,
            "fault_kinds": list(self.faults.fault_kinds),
            "fault_seed": self.faults.fault_seed,
            "slow_seconds": self.faults.slow_seconds,
            **self.search.config,
        }

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change behaviour at runtime (keys in CONFIG_KEYS); returns the resulting config.

        Everything is validated before anything is applied, so a bad call changes nothing.
        """
        unknown = sorted(set(changes) - set(CONFIG_KEYS))
        if unknown:
            raise TypeError(f"unknown configure keys {unknown}; expected some of {CONFIG_KEYS}")
        limits = {
            k: changes[k] for k in ("account_limit", "export_limit", "time_scale") if k in changes
        }
        if "time_scale" in limits:
            check_time_scale(limits["time_scale"])
        for name in ("account_limit", "export_limit"):
            if name in limits:
                check_limit(limits[name], name)
        flags = ("password_enabled", "api_token_active", "stuck_end_time", "capped_same_second")
        for flag in flags:
            if flag in changes and not isinstance(changes[flag], bool):
                raise ValueError(f"{flag} must be true or false, got {changes[flag]!r}")
        for ttl in ("oauth_access_ttl", "oauth_refresh_ttl"):
            value = changes.get(ttl, 1)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"{ttl} must be a number of seconds > 0, got {value!r}")
        forbidden = _prefixes(changes, "forbidden_paths", self.forbidden_paths)
        missing = _prefixes(changes, "missing_paths", self.missing_paths)
        fault_changes = {
            k: changes[k] for k in ("fault_rate", "fault_kinds", "slow_seconds") if k in changes
        }
        check_settings(**fault_changes)
        search_changes = {k: changes[k] for k in SEARCH_CONFIG_KEYS if k in changes}
        self.search.check(**search_changes)
        seed = changes.get("fault_seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"fault_seed must be an integer or None, got {seed!r}")
        style = changes.get("metric_sets_style", self.metric_sets_style)
        if style not in METRIC_SETS_STYLES:
            raise ValueError(f"metric_sets_style must be one of {METRIC_SETS_STYLES}: {style!r}")

        self.limiter.configure(**limits)
        self.faults.configure(**fault_changes, fault_seed=seed, reseed="fault_seed" in changes)
        if "password_enabled" in changes:
            self.password_enabled = bool(changes["password_enabled"])
        if "api_token_active" in changes:
            self.api_token_active = bool(changes["api_token_active"])
        self.oauth.configure(
            access_ttl=changes.get("oauth_access_ttl"), refresh_ttl=changes.get("oauth_refresh_ttl")
        )
        if "stuck_end_time" in changes:
            self.stuck_end_time = bool(changes["stuck_end_time"])
        if "capped_same_second" in changes:
            self.capped_same_second = bool(changes["capped_same_second"])
        if "metric_sets_style" in changes:
            self.metric_sets_style = changes["metric_sets_style"]
        self.forbidden_paths = forbidden
        self.missing_paths = missing
        self.search.configure(**search_changes)
        return self.config

    def add_faults(self, *rules: FaultRule) -> int:
        """Queue scripted faults (FIFO across rules); returns the number of pending rules."""
        return self.faults.add(rules)

    def clear_faults(self) -> None:
        self.faults.clear()

    def mutate(self, **counts: int) -> dict[str, Any]:
        """Change data at one fresh timestamp; see :meth:`Dataset.mutate` for the rules."""
        return self.dataset.mutate(**counts)

    def rename_field(self, field_id: int, title: str) -> None:
        """Retitle a ticket, user or organization field, as an admin would (id and key stay)."""
        self._field_titles[field_id] = title

    def field_definitions(self, kind: str) -> list[dict[str, Any]]:
        """``ticket_fields``, ``user_fields`` or ``organization_fields`` as served unpaginated."""
        if kind == "ticket_fields":
            fields = self.dataset.ticket_fields()
        else:
            build = user_fields if kind == "user_fields" else organization_fields
            fields = build(self.dataset.base_url, self.dataset.generated_at)
        for field in fields:
            if (title := self._field_titles.get(field["id"])) is not None:
                field["title"] = field["raw_title"] = title
        return fields

    @property
    def stats(self) -> dict[str, Any]:
        return self._stats.snapshot()

    def reset_stats(self) -> None:
        self._stats.reset()

    # ----------------------------------------------------------------- /api/v2

    def api_response(
        self, method: str, path: str, query: Mapping[str, str], auth: str | None, consume: bool
    ) -> Response:
        """Answer one API request; ``consume=False`` for fault replays (no budget spent)."""
        canonical = _canonical(path)
        route, ticket_id = _route(canonical)
        export = canonical.startswith("/api/v2/incremental/")
        denied = self._authenticate(auth)
        if denied is not None:
            headers = self.limiter.admit(export, consume=False).headers
            return denied._replace(headers=denied.headers + headers)
        alt = _alt(path)
        if any(path.startswith(p) or alt.startswith(p) for p in self.forbidden_paths):
            return json_response(403, _FORBIDDEN, self.limiter.admit(export, False).headers)
        missing = any(path.startswith(p) or alt.startswith(p) for p in self.missing_paths)
        if canonical == "/api/v2/users/me" and method == "GET" and not missing:
            # Show Self (Users API, GET /api/v2/users/me): the user the credential belongs to;
            # every credential of this emulator is the admin's.
            verdict = self.limiter.admit(export, consume)
            return json_response(200, {"user": self._admin_user()}, verdict.headers)
        if route is None or method != "GET" or missing:
            return json_response(404, _NOT_FOUND, self.limiter.admit(export, False).headers)
        verdict = self.limiter.admit(export, consume)
        if not verdict.allowed:
            self._stats.throttled(verdict.bucket or "account")
            headers = [*verdict.headers, ("Retry-After", str(verdict.retry_after))]
            if verdict.bucket == "export":
                return json_response(429, _EXPORT_429, headers)
            return Response(429, [("Content-Type", TEXT_TYPE), *headers], _ACCOUNT_429)
        kind, style = route
        if kind == "search":
            status, body = self.search.respond(style, f"{self.url}{canonical}.json", query)
            return Response(status, [("Content-Type", JSON_TYPE), *verdict.headers], body)
        if style == "account_list":
            url = f"{self.url}{canonical}.json"
            status, body = self.account_lists.respond(kind, url, query)
            return Response(status, [("Content-Type", JSON_TYPE), *verdict.headers], body)
        if style == "cursor":
            return self._cursor_export(kind, canonical, query, verdict.headers)
        if style == "time":
            return self._time_export(kind, canonical, query, verdict.headers)
        try:
            if style == "catalog":
                return self._catalog(kind, canonical, query, verdict.headers)
            if style == "list":
                return self._account_list(kind, canonical, query, verdict.headers)
            return self._ticket_list(kind, ticket_id, canonical, query, verdict.headers)
        except PaginationError as exc:
            return json_response(400, exc.body, verdict.headers)

    def _admin_user(self) -> dict[str, Any]:
        for user_id in self.dataset.ids("users"):
            user = self.dataset.get("users", user_id)
            if user.get("email") == ADMIN_EMAIL:
                return user
        raise LookupError("the dataset has no admin user")

    def _authenticate(self, header: str | None) -> Response | None:
        """None when the credentials are good, else the 401 Zendesk sends
        (https://developer.zendesk.com/api-reference/introduction/security-and-auth/).

        A deactivated API token and refused password access get the same body as a wrong
        credential: Zendesk documents no other answer for them (assumption; the migration guide
        only says such calls "will fail").
        """
        scheme, _, value = (header or "").strip().partition(" ")
        creds = self._credentials
        if scheme.lower() == "bearer":
            if self.oauth.valid(value.strip()):
                return None
            return json_response(401, _BEARER_401)
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            user, sep, secret = decoded.partition(":")
            user = user.lower()
            if (
                sep
                and self.api_token_active
                and user == f"{creds['email']}/token"
                and _same(secret, creds["api_token"])
            ):
                return None
            if (
                sep
                and self.password_enabled
                and user == creds["email"]
                and _same(secret, creds["password"])
            ):
                return None
        return json_response(401, _BASIC_401, [("WWW-Authenticate", 'Basic realm="Web Password"')])

    def _start_time(
        self, query: Mapping[str, str], now: int, headers: list[tuple[str, str]]
    ) -> int | Response:
        """Validate ``start_time`` the way the incremental endpoints do (its parameter in
        https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/)."""
        raw = query.get("start_time")
        if raw is None:
            return _invalid("start_time is required", headers=headers)
        try:
            start_time = int(raw)
        except ValueError:
            # Assumption: a non-integer start_time is reported like other invalid values.
            return _invalid("start_time must be an integer (Unix epoch seconds)", headers=headers)
        if start_time > now:
            return _invalid("start_time is in the future", headers=headers)
        if start_time > now - 60:
            return _invalid(
                "Too recent start_time. Use a start_time older than 1 minute", 422, headers
            )
        return start_time

    @staticmethod
    def _per_page(query: Mapping[str, str], headers: list[tuple[str, str]]) -> int | Response:
        raw = query.get("per_page")
        if raw is None:
            return DEFAULT_PER_PAGE
        try:
            return clamp_per_page(int(raw))
        except ValueError:
            # Assumption: not recorded; an integer is required as for start_time.
            return _invalid("per_page must be an integer", headers=headers)

    @staticmethod
    def _scope(
        kind: str, query: Mapping[str, str], headers: list[tuple[str, str]]
    ) -> str | Response:
        """The support_type_scope a tickets or ticket events export serves; absent, Zendesk's
        default ``agent``, which leaves AI-agent tickets out (dataset.SUPPORT_TYPE_SCOPES)."""
        if kind not in _SCOPED_KINDS:
            return ALL_SUPPORT_TYPES
        scope = query.get("support_type_scope", DEFAULT_SUPPORT_TYPE_SCOPE)
        try:
            return check_scope(scope)
        except ValueError:
            # Assumption: Zendesk does not document its answer to an unknown value; a 400 in
            # the InvalidValue style its exports use for other bad parameters.
            return _invalid(
                f"support_type_scope must be one of {', '.join(SUPPORT_TYPE_SCOPES)}",
                headers=headers,
            )

    def _cursor_export(
        self, kind: str, canonical: str, query: Mapping[str, str], headers: list[tuple[str, str]]
    ) -> Response:
        now = self.dataset.now()
        per_page = self._per_page(query, headers)
        if isinstance(per_page, Response):
            return per_page
        if "cursor" in query:
            try:
                after = decode_cursor(query["cursor"])
            except InvalidCursorError:
                return json_response(400, _BAD_CURSOR, headers)
        else:
            start_time = self._start_time(query, now, headers)
            if isinstance(start_time, Response):
                return start_time
            after = start_position(start_time)
        scope = self._scope(kind, query, headers)
        if isinstance(scope, Response):
            return scope
        exclude = kind == "tickets" and query.get("exclude_deleted", "").lower() in ("true", "1")
        page = self.dataset.cursor_page(
            kind, after, per_page, exclude_deleted=exclude, now=now, scope=scope
        )
        if (heavy := self._too_heavy(page.items, headers)) is not None:
            return heavy
        items, sideloads = self._with_sideloads(kind, query, page.items)
        cursor = encode_cursor(*page.after)
        params = {"cursor": cursor}
        if "per_page" in query:
            params["per_page"] = str(per_page)
        if kind == "tickets" and "exclude_deleted" in query:
            params["exclude_deleted"] = query["exclude_deleted"]
        if kind in _SCOPED_KINDS and "support_type_scope" in query:
            # Assumption: echoed like per_page (recorded in after_url: tests/fixtures/
            # recorded_pages.json, tickets_cursor_per_page_1); no
            # recorded after_url shows support_type_scope. The cursor itself is only a position,
            # so a follow-up without the parameter is read with the default scope.
            params["support_type_scope"] = scope
        if sideloads is not None:
            params["include"] = query["include"]
        # Sorted like Rails' to_query, which is the order seen in recorded URLs.
        after_url = f"{self.url}{canonical}.json?{urlencode(sorted(params.items()))}"
        meta = {
            "after_url": after_url,
            "before_url": None,
            "after_cursor": cursor,
            "before_cursor": None,
            "end_of_stream": page.end_of_stream,
        }
        return self._page_response(kind, items, meta, headers, sideloads)

    def _time_export(
        self, kind: str, canonical: str, query: Mapping[str, str], headers: list[tuple[str, str]]
    ) -> Response:
        now = self.dataset.now()
        per_page = self._per_page(query, headers)
        if isinstance(per_page, Response):
            return per_page
        start_time = self._start_time(query, now, headers)
        if isinstance(start_time, Response):
            return start_time
        if kind == "ticket_metric_events" and "page[size]" in query:
            return self._metric_events_cursor(canonical, query, start_time, now, headers)
        scope = self._scope(kind, query, headers)
        if isinstance(scope, Response):
            return scope
        sideloads = query.get("include", "").split(",")
        page = self.dataset.time_page(
            kind,
            start_time,
            per_page,
            stuck=self.stuck_end_time,
            now=now,
            include_comments=kind == "ticket_events" and "comment_events" in sideloads,
            capped=self.capped_same_second,
            scope=scope,
        )
        if (heavy := self._too_heavy(page.items, headers)) is not None:
            return heavy
        items, sideloads = self._with_sideloads(kind, query, page.items)
        params = {"start_time": str(page.end_time)}
        if "per_page" in query:
            params["per_page"] = str(per_page)
        if kind in _SCOPED_KINDS and "support_type_scope" in query:
            # Assumption, as for after_url in _cursor_export: echoed like per_page.
            params["support_type_scope"] = scope
        if (kind in ACTIVITY_KINDS or sideloads is not None) and "include" in query:
            params["include"] = query["include"]
        # next_page is never null, not even at end_of_stream (recorded: tests/fixtures/
        # recorded_pages.json, tickets_time_last_page).
        next_page = f"{self.url}{canonical}.json?{urlencode(sorted(params.items()))}"
        count, eos, end_time = len(page.items), page.end_of_stream, page.end_time
        if kind == "users":
            # Recorded users pages put next_page first; tickets and organizations put it later.
            meta = {
                "next_page": next_page,
                "count": count,
                "end_of_stream": eos,
                "end_time": end_time,
            }
        else:
            meta = {
                "count": count,
                "end_of_stream": eos,
                "next_page": next_page,
                "end_time": end_time,
            }
        return self._page_response(kind, items, meta, headers, sideloads)

    def _too_heavy(self, items: Sized, headers: list[tuple[str, str]]) -> Response | None:
        """A 504 Gateway Time-out, as Zendesk's gateway answers a request that took too long
        (https://developer.zendesk.com/api-reference/introduction/requests/, status codes),
        for a page heavier than ``heaviest_page``."""
        if self.heaviest_page is None or len(items) <= self.heaviest_page:
            return None
        body = b"<html><body><h1>" + _GATEWAY_TITLES[504].encode() + b"</h1></body></html>"
        return Response(504, [("Content-Type", HTML_TYPE), *headers], body)

    def _metric_events_cursor(
        self,
        canonical: str,
        query: Mapping[str, str],
        start_time: int,
        now: int,
        headers: list[tuple[str, str]],
    ) -> Response:
        """Ticket metric events with cursor pagination: ``page[size]`` (at most 100) from
        ``start_time``, then ``page[after]``, in the ``meta``/``links`` envelope of cursor
        pages. Zendesk documents both ways for this export: "If the results are not paginated,
        events will be returned as a time-based incremental export"
        (https://developer.zendesk.com/api-reference/ticketing/tickets/ticket_metric_events/).
        The cursor itself is not recorded: here it is an opaque position."""
        try:
            size = int(query["page[size]"])
        except ValueError:
            return _invalid("page[size] must be an integer", headers=headers)
        if not 1 <= size <= METRIC_EVENTS_MAX_PAGE_SIZE:
            return _invalid(
                f"page[size] must be between 1 and {METRIC_EVENTS_MAX_PAGE_SIZE}", headers=headers
            )
        after = None
        if query.get("page[after]"):
            try:
                after = _decode_position(query["page[after]"])
            except ValueError:
                return json_response(400, _BAD_CURSOR, headers)
        items, last, has_more = self.dataset.metric_events_cursor_page(
            start_time, after, size, now=now
        )
        cursor = _encode_position(last) if last is not None else None
        url = f"{self.url}{canonical}.json"
        params = {"start_time": str(start_time), "page[size]": str(size)}

        def link(cursor: str | None) -> str | None:
            if cursor is None:
                return None
            return f"{url}?{urlencode(sorted({**params, 'page[after]': cursor}.items()))}"

        tail = {
            "meta": {"has_more": has_more, "after_cursor": cursor, "before_cursor": None},
            "links": {"prev": None, "next": link(cursor)},
        }
        return self._page_response("ticket_metric_events", items, tail, headers)

    def _catalog(
        self, kind: str, canonical: str, query: Mapping[str, str], headers: list[tuple[str, str]]
    ) -> Response:
        """Ticket forms in one page; ticket, user and organization fields in one page, or by
        id with ``page[size]``."""
        if kind == "ticket_forms":
            # Not paginated (https://developer.zendesk.com/api-reference/ticketing/tickets/
            # ticket_forms/, List Ticket Forms); the active/end_user_visible filters are ignored.
            body = single_page(kind, [encode(f) for f in self.dataset.ticket_forms()])
        elif "page[size]" in query:
            fields = sorted(self.field_definitions(kind), key=lambda f: f["id"])
            entries = [((f["id"],), encode(f)) for f in fields]
            url = f"{self.url}{canonical}.json"
            body = cursor_page(entries, items_key=kind, order="id", url=url, query=query)
        else:
            body = single_page(kind, [encode(f) for f in self.field_definitions(kind)])
        return Response(200, [("Content-Type", JSON_TYPE), *headers], body)

    def _ticket_list(
        self,
        kind: str,
        ticket_id: int | None,
        canonical: str,
        query: Mapping[str, str],
        headers: list[tuple[str, str]],
    ) -> Response:
        """A ticket's comments or audits: CBP with ``page[size]``, else offset pages."""
        entries = None if ticket_id is None else self.dataset.ticket_entries(kind, ticket_id)
        if entries is None:
            return json_response(404, _RECORD_NOT_FOUND, headers)
        url = f"{self.url}{canonical}.json"
        body = list_page(entries, items_key=kind, order="created_at,id", url=url, query=query)
        return Response(200, [("Content-Type", JSON_TYPE), *headers], body)

    def _with_sideloads(
        self, kind: str, query: Mapping[str, str], items: list[bytes]
    ) -> tuple[list[bytes], dict[str, list[bytes]] | None]:
        """A tickets page with what ``include=`` asks for, and its top-level side-load arrays;
        None for those when nothing was asked (the page is then served as stored)."""
        if kind != "tickets" or "include" not in query:
            return items, None
        include = parse_include(query["include"])
        return render(self.dataset, items, include, self.metric_sets_style)

    def _account_list(
        self, kind: str, canonical: str, query: Mapping[str, str], headers: list[tuple[str, str]]
    ) -> Response:
        """Groups or brands: cursor pages with ``page[size]``, else offset pages, by id."""
        objects = self.dataset.groups() if kind == "groups" else self.dataset.brands()
        entries = [((o["id"],), encode(o)) for o in objects]
        url = f"{self.url}{canonical}.json"
        body = list_page(entries, items_key=kind, order="id", url=url, query=query)
        return Response(200, [("Content-Type", JSON_TYPE), *headers], body)

    @staticmethod
    def _page_response(
        kind: str,
        items: list[bytes],
        meta: dict[str, Any],
        headers: list[tuple[str, str]],
        sideloads: Mapping[str, list[bytes]] | None = None,
    ) -> Response:
        # Items are already JSON: splice them in rather than decode and re-encode 1000 objects.
        parts = [b'{"', kind.encode(), b'":[', b",".join(items), b"],"]
        for name, raws in (sideloads or {}).items():
            parts += [b'"', name.encode(), b'":[', b",".join(raws), b"],"]
        parts.append(_ENCODER.encode(meta).encode()[1:])
        return Response(200, [("Content-Type", JSON_TYPE), *headers], b"".join(parts))

    def fault_response(self, fault: Fault, path: str, target: str | None = None) -> Response:
        """The canned part of a fault: 429s, gateway errors and wrong-but-well-formed answers.

        Rate-limit headers are peeked, not consumed, and ``ratelimit-reset`` is pinned to 1 so
        a client honouring it retries promptly. ``target`` is the request's path and query,
        which a ``redirect`` keeps while it sends the client to another host (127.0.0.2, where
        nothing listens on this port).
        """
        export = _canonical(path).startswith("/api/v2/incremental/")
        headers = [
            (k, "1" if k == "ratelimit-reset" else v)
            for k, v in self.limiter.admit(export, consume=False).headers
        ]
        if fault.kind == "429":
            return Response(
                429, [("Content-Type", TEXT_TYPE), *headers, ("Retry-After", "1")], _ACCOUNT_429
            )
        if fault.kind == "429_no_retry_after":
            return Response(429, [("Content-Type", TEXT_TYPE), *headers], _ACCOUNT_429)
        if fault.kind == "html_200":
            return Response(200, [("Content-Type", HTML_TYPE), *headers], _MAINTENANCE)
        if fault.kind == "empty_200":
            return Response(200, [("Content-Type", JSON_TYPE), *headers], b"")
        if fault.kind == "wrong_shape":
            return json_response(200, {"unexpected": True}, headers)
        if fault.kind == "redirect":
            port = urlsplit(self.url).port
            location = f"http://{REDIRECT_HOST}:{port}{target or path}"
            body = f'<html><body>You are being <a href="{location}">redirected</a>.</body></html>'
            return Response(
                302, [("Content-Type", HTML_TYPE), *headers, ("Location", location)], body.encode()
            )
        if fault.kind == "409":
            return json_response(409, _DATABASE_CONFLICT, headers)
        if fault.kind == "503_retry_after":
            headers = [*headers, ("Retry-After", str(MAINTENANCE_RETRY_AFTER))]
        status = int(fault.kind.split("_", 1)[0])
        title = _GATEWAY_TITLES[status].encode()
        body = b"<html><body><h1>" + title + b"</h1></body></html>"
        return Response(status, [("Content-Type", HTML_TYPE), *headers], body)

    # ----------------------------------------------------------------- /__emulator

    def admin_response(
        self, method: str, name: str, query: Mapping[str, str], body: bytes
    ) -> Response:
        """Test-control endpoints; JSON in and out, no auth."""
        try:
            payload = json.loads(body) if body.strip() else {}
            if name == "configure" and method == "POST":
                return json_response(200, self.configure(**_object(payload)))
            if name == "configure" and method == "GET":
                return json_response(200, self.config)
            if name == "faults" and method == "POST":
                items = payload.get("rules", []) if isinstance(payload, dict) else payload
                if not isinstance(items, list):
                    raise ValueError("expected a list of fault rules")
                rules = [FaultRule(**_object(item)) for item in items]
                self.add_faults(*rules)
                return json_response(200, {"pending": self.faults.pending()})
            if name == "faults" and method == "GET":
                return json_response(200, {"pending": self.faults.pending()})
            if name == "faults" and method == "DELETE":
                self.clear_faults()
                return json_response(200, {"pending": []})
            if name == "mutate" and method == "POST":
                return json_response(200, self.mutate(**_object(payload)))
            if name == "stats" and method == "GET":
                return json_response(200, self.stats)
            if name == "reset_stats" and method == "POST":
                self.reset_stats()
                return json_response(200, self.stats)
            if name == "credentials" and method == "GET":
                return json_response(200, {**self.credentials, "url": self.url})
            if name == "truth" and method == "GET":
                return json_response(200, self._truth(query))
        except (TypeError, ValueError, KeyError) as exc:
            return json_response(400, {"error": "BadAdminRequest", "description": str(exc)})
        return json_response(404, {"error": "UnknownAdminEndpoint", "description": name})

    def _truth(self, query: Mapping[str, str]) -> dict[str, Any]:
        kind = query.get("kind", "tickets")
        if kind not in KINDS + ACTIVITY_KINDS:
            raise ValueError(f"kind must be one of {KINDS + ACTIVITY_KINDS}")
        exclude = query.get("exclude_deleted", "").lower() in ("true", "1")
        # Every ticket unless asked otherwise: what the tap's default ticket_scope reads.
        scope = check_scope(query.get("support_type_scope", ALL_SUPPORT_TYPES))
        pairs = self.dataset.truth(kind, exclude_deleted=exclude, scope=scope)
        return {
            "kind": kind,
            "count": len(pairs),
            "max_ts": max((ts for _, ts in pairs), default=None),
            "items": [{"id": i, "ts": ts} for i, ts in pairs],
        }


def _route(canonical: str) -> tuple[tuple[str, str] | None, int | None]:
    """(kind, style) of a canonical path, and the ticket id of per-ticket lists."""
    route = ROUTES.get(canonical)
    if route is not None:
        return route, None
    match = _TICKET_LIST.fullmatch(canonical)
    if match is None:
        return None, None
    return (match[2], "ticket"), int(match[1])


def _encode_position(position: int) -> str:
    return base64.urlsafe_b64encode(f"metric_event:{position}".encode()).decode()


def _decode_position(cursor: str) -> int:
    """The position a metric events cursor points at; ValueError if it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError) as exc:
        raise ValueError(cursor) from exc
    prefix, _, number = text.partition(":")
    if prefix != "metric_event" or not number.isdigit():
        raise ValueError(cursor)
    return int(number)


def _prefixes(changes: Mapping[str, Any], name: str, current: tuple[str, ...]) -> tuple[str, ...]:
    """Validate a list of path prefixes given to configure (None or [] clears it)."""
    value = changes.get(name, current) or ()
    if isinstance(value, str) or not all(isinstance(p, str) and p.startswith("/") for p in value):
        raise ValueError(f"{name} must be a list of path prefixes starting with '/'")
    return tuple(value)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _object(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise ValueError("expected a JSON object")
    return payload


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "zendesk-emulator"
    sys_version = ""
    server: _Server

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt: str, *args: object) -> None:
        """Silent: per-request logging would flood test output and slow benchmarks."""

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _dispatch(self) -> None:
        emulator = self.server.emulator
        try:
            body = self._read_body()
            split = urlsplit(self.path)
            path = split.path
            query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
            if path.startswith("/__emulator/"):
                name = path[len("/__emulator/") :].strip("/")
                self._send(emulator.admin_response(self.command, name, query, body))
            elif path == "/oauth/tokens" and self.command == "POST":
                emulator._stats.request(path)
                status, payload = emulator.oauth.grant(body)
                emulator._stats.response(status)
                self._send(json_response(status, payload))
            elif path == "/oauth/authorizations/new" and self.command == "GET":
                emulator._stats.request(path)
                status, answer = emulator.oauth.authorize(query)
                if status == 302:
                    self._send(Response(302, [("Location", answer["Location"])], b""))
                else:
                    page = f"<html><body><h1>{answer['error']}</h1></body></html>"
                    self._send(_html(status, page.encode()))
            elif path == "/api/v2" or path.startswith("/api/v2/"):
                self._api(emulator, path, query)
            else:
                self._send(_html(404, _HTML_404))
        except ConnectionError:
            # The client went away (killed, or gave up on a slow answer): nothing to answer.
            self.close_connection = True
        except Exception:
            log.exception("emulator failed on %s %s", self.command, self.path)
            self.close_connection = True
            with suppress(OSError):
                self._send(json_response(500, {"error": "EmulatorError"}))

    def _read_body(self) -> bytes:
        # Always drain the body so the next request on a keep-alive connection parses cleanly.
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _api(self, emulator: Emulator, path: str, query: dict[str, str]) -> None:
        stats = emulator._stats
        stats.request(path)
        if "include" in query:
            stats.included(path, query["include"])
        if "support_type_scope" in query:
            stats.scoped(path, query["support_type_scope"])
        auth = self.headers.get("Authorization")
        fault = emulator.faults.pick(path)
        if fault is None:
            response = emulator.api_response(self.command, path, query, auth, consume=True)
            stats.response(response.status)
            self._send(response)
            return
        stats.fault(fault.kind)
        if fault.kind == "drop":
            # No status line at all: the client sees the connection die mid-request.
            self.close_connection = True
            with suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault.kind == "slow":
            time.sleep(fault.slow_seconds)
        if fault.kind in ("slow", "truncate", "short_body"):
            # Replays consume no budget: a retried request must find the same state.
            response = emulator.api_response(self.command, path, query, auth, consume=False)
        else:
            response = emulator.fault_response(fault, path, self.path)
        stats.response(response.status)
        if fault.kind == "truncate":
            self._send(response._replace(body=response.body[: len(response.body) // 2]))
        elif fault.kind == "short_body":
            self._send(response, send_bytes=len(response.body) // 2)
            self.close_connection = True
        else:
            self._send(response)

    def _send(self, response: Response, send_bytes: int | None = None) -> None:
        """Write status, headers and body in one call; ``send_bytes`` cuts the body short."""
        status, headers, body = response
        lines = [
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
            f"Date: {self.date_time_string()}",
            f"Server: {self.server_version}",
            "x-zendesk-api-version: v2",
        ]
        lines.extend(f"{k}: {v}" for k, v in headers)
        lines.append(f"Content-Length: {len(body)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        payload = body if send_bytes is None else body[:send_bytes]
        self.wfile.write(head + payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls getfqdn(), a reverse DNS lookup that can take seconds
        # in sandboxes; the name is never used here.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-response (killed, or gave up waiting) or refused the
        certificate is no error."""
        if isinstance(sys.exc_info()[1], ConnectionError | ssl.SSLError):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """Wake handler threads blocked on idle keep-alive sockets so they exit."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
