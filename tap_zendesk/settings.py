"""Turning raw config into facts the streams use: where Zendesk is, who we are, from when.

`Settings.from_config` either returns a complete, consistent `Settings` or raises
`ConfigValidationError` whose errors each name the field to fix.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import ipaddress
import os
import re
import typing as t
from urllib.parse import urlsplit

import pendulum
from singer_sdk.exceptions import ConfigValidationError

AUTH_METHODS = ("api_token", "password", "oauth", "client_credentials")
CREDENTIAL_FIELD = {
    "api_token": "api_token",
    "password": "password",
    "oauth": "oauth_token",
    "client_credentials": "client_secret",
}
# Zendesk's "read" scope covers every GET endpoint the tap calls, side-loads included.
DEFAULT_OAUTH_SCOPE = "read"
MAX_PAGE_SIZE = 1000
DEFAULT_REQUEST_TIMEOUT = 300.0
DEFAULT_MAX_RETRIES = 8
DEFAULT_RATE_LIMIT_WINDOW_SECONDS = 60.0
# Zendesk's maintenance windows and incidents last minutes: a run waits that long, not less.
DEFAULT_OUTAGE_LIMIT_SECONDS = 1800.0
COMMENTS_SOURCES = ("ticket_events", "per_ticket")
# `support_type_scope` of the ticket exports and the ticket events export. Zendesk's own
# default is `agent`, which leaves out AI-agent tickets; ours is `all` (the first).
TICKET_SCOPES = ("all", "agent", "ai_agent")
DEFAULT_PROGRESS_INTERVAL = 30.0
DEFAULT_PARALLEL_REQUESTS = 8
MAX_PARALLEL_REQUESTS = 32
# Ready-made searches, selectable by name in `premade_queries`.
PREMADE_QUERIES = {
    "open_tickets": "type:ticket status:open",
    "closed_tickets": "type:ticket status:closed",
}
# `include=` values of the incremental ticket export. Per-ticket ones land on each ticket under
# the name given here; object ones arrive as top-level arrays of another stream's records.
PER_TICKET_SIDELOADS = {
    "metric_sets": "metric_set",
    "dates": "dates",
    "slas": "slas",
    "comment_count": "comment_count",
}
OBJECT_SIDELOADS = ("users", "groups", "organizations", "brands")
TICKET_SIDELOADS = (*PER_TICKET_SIDELOADS, *OBJECT_SIDELOADS)
_QUERY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

_SUBDOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", re.IGNORECASE)
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$", re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class SearchQuery:
    """One search stream: `search_<name>` reads the results of `query`."""

    name: str
    query: str

    @property
    def stream_name(self) -> str:
        """The stream this query's results are emitted as."""
        return f"search_{self.name}"


@dataclasses.dataclass(frozen=True)
class OAuthRefresh:
    """What renews an OAuth access token with the refresh_token grant.

    `refresh_token` is None when only the token store holds one (written by `tap-zendesk auth
    login`).
    """

    refresh_token: str | None = dataclasses.field(repr=False)
    client_id: str
    client_secret: str | None = dataclasses.field(repr=False, default=None)
    # Where rotated tokens are kept between runs (Zendesk deletes the old pair on refresh).
    token_store: str | None = None


@dataclasses.dataclass(frozen=True)
class OAuthClient:
    """A confidential OAuth client that makes its own access tokens (client_credentials)."""

    client_id: str
    client_secret: str = dataclasses.field(repr=False)
    scope: str = DEFAULT_OAUTH_SCOPE


@dataclasses.dataclass(frozen=True)
class Settings:
    """The validated configuration of one run."""

    base_url: str
    auth_method: str
    email: str | None
    credential: str = dataclasses.field(repr=False)
    start: dt.datetime
    page_size: int
    request_timeout: float
    max_retries: int
    user_agent: str | None
    comments_source: str = COMMENTS_SOURCES[0]
    ticket_scope: str = TICKET_SCOPES[0]
    parallel_requests: int = DEFAULT_PARALLEL_REQUESTS
    # Ceilings on the budgets Zendesk states (None: Zendesk's own figures).
    rate_limit_per_minute: float | None = None
    export_rate_limit_per_minute: float | None = None
    rate_limit_window_seconds: float = DEFAULT_RATE_LIMIT_WINDOW_SECONDS
    # A CA bundle to trust instead of the default one (a TLS-inspecting proxy's CA).
    ca_bundle: str | None = None
    outage_limit_seconds: float = DEFAULT_OUTAGE_LIMIT_SECONDS
    # How the start was configured ("start_date=<iso>" or "days_back=<n>"): a change of it,
    # not the daily move of a days_back date, restarts incremental streams from the new start.
    start_setting: str = ""
    searches: tuple[SearchQuery, ...] = ()
    ticket_sideloads: tuple[str, ...] = ()
    include_attachments: bool = True
    legacy_schema: bool = False
    exclude_deleted: bool = False
    typed_custom_fields: bool = True
    oauth_refresh: OAuthRefresh | None = None
    oauth_client: OAuthClient | None = None
    progress_interval: float = DEFAULT_PROGRESS_INTERVAL

    @property
    def api_url(self) -> str:
        """The root every endpoint path is appended to."""
        return f"{self.base_url}/api/v2"

    @property
    def start_epoch(self) -> int:
        """The effective start date as Zendesk's export `start_time` (Unix seconds)."""
        return int(self.start.timestamp())

    @classmethod
    def from_config(
        cls, config: t.Mapping[str, t.Any], *, now: dt.datetime | None = None
    ) -> Settings:
        """Validate `config`; raise `ConfigValidationError` naming every field to fix."""
        problems: list[str] = []
        now = now or dt.datetime.now(dt.UTC)

        def attempt(parse: t.Callable[[], t.Any]) -> t.Any:
            try:
                return parse()
            except ValueError as exc:
                problems.append(str(exc))
                return None

        base_url = attempt(lambda: _base_url(config))
        auth = attempt(lambda: _credential(config))
        start = attempt(lambda: _start(config, now))
        page_size = attempt(lambda: _integer(config, "page_size", MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE))
        timeout = attempt(lambda: _seconds(config, "request_timeout", DEFAULT_REQUEST_TIMEOUT))
        retries = attempt(lambda: _integer(config, "max_retries", DEFAULT_MAX_RETRIES, 0, 100))
        user_agent = config.get("user_agent") or None
        comments_source = attempt(lambda: _choice(config, "comments_source", COMMENTS_SOURCES))
        ticket_scope = attempt(lambda: _choice(config, "ticket_scope", TICKET_SCOPES))
        parallel = attempt(
            lambda: _integer(
                config, "parallel_requests", DEFAULT_PARALLEL_REQUESTS, 1, MAX_PARALLEL_REQUESTS
            )
        )
        rate = attempt(lambda: _rate(config, "rate_limit_per_minute"))
        export_rate = attempt(lambda: _rate(config, "export_rate_limit_per_minute"))
        window = attempt(
            lambda: _seconds(config, "rate_limit_window_seconds", DEFAULT_RATE_LIMIT_WINDOW_SECONDS)
        )
        attempt(lambda: _no_batch(config))
        ca_bundle = attempt(lambda: _ca_bundle(config))
        outage_limit = attempt(
            lambda: _seconds(config, "outage_limit_seconds", DEFAULT_OUTAGE_LIMIT_SECONDS)
        )
        oauth_refresh = attempt(lambda: _oauth_refresh(config))
        oauth_client = attempt(lambda: _oauth_client(config))
        progress = attempt(lambda: _seconds(config, "progress_interval", DEFAULT_PROGRESS_INTERVAL))
        searches = attempt(lambda: search_queries(config))
        sideloads = attempt(lambda: _sideloads(config))
        flags = {
            name: attempt(lambda name=name, default=default: _flag(config, name, default))
            for name, default in (
                ("include_attachments", True),
                ("legacy_schema", False),
                ("exclude_deleted", False),
                ("typed_custom_fields", True),
            )
        }
        if problems:
            raise ConfigValidationError(problems[0], errors=problems)
        auth_method, email, credential = auth
        return cls(
            base_url=base_url,
            auth_method=auth_method,
            email=email,
            credential=credential,
            start=start,
            page_size=page_size,
            request_timeout=timeout,
            max_retries=retries,
            user_agent=user_agent,
            comments_source=comments_source,
            ticket_scope=ticket_scope,
            parallel_requests=parallel,
            rate_limit_per_minute=rate,
            export_rate_limit_per_minute=export_rate,
            rate_limit_window_seconds=window,
            ca_bundle=ca_bundle,
            outage_limit_seconds=outage_limit,
            start_setting=_start_setting(config, start),
            searches=searches,
            ticket_sideloads=sideloads,
            oauth_refresh=oauth_refresh,
            oauth_client=oauth_client,
            progress_interval=progress,
            **flags,
        )


def base_url_of(config: t.Mapping[str, t.Any]) -> str:
    """The account's address from `url` or `subdomain`; ValueError saying what to fix."""
    return _base_url(config)


def _base_url(config: t.Mapping[str, t.Any]) -> str:
    url, subdomain = config.get("url"), config.get("subdomain")
    if url and subdomain and _normalise_url(str(url)) != _normalise_url(str(subdomain)):
        msg = "url and subdomain point at different accounts: set only url"
        raise ValueError(msg)
    raw = url or subdomain
    if not raw:
        msg = "url is required: your Zendesk address, e.g. acme or https://acme.zendesk.com"
        raise ValueError(msg)
    if not isinstance(raw, str):
        msg = "url must be a string such as https://acme.zendesk.com"
        raise ValueError(msg)
    return _normalise_url(raw)


def _normalise_url(raw: str) -> str:
    """Accept `acme`, `acme.zendesk.com`, `https://acme.zendesk.com/api/v2/` and host maps."""
    text = raw.strip()
    if "://" not in text:
        text = "https://" + (text if "." in text or ":" in text else f"{text}.zendesk.com")
    parts = urlsplit(text)
    shown = raw.strip()
    host = parts.hostname or ""
    if parts.scheme not in {"http", "https"}:
        msg = f"url {shown!r} must start with https://"
        raise ValueError(msg)
    if parts.username or parts.password:
        msg = "url must not contain credentials: put them in email and api_token"
        raise ValueError(msg)
    if parts.query or parts.fragment:
        msg = f"url {shown!r} must not have a query or fragment: use https://acme.zendesk.com"
        raise ValueError(msg)
    path = parts.path.rstrip("/")
    if path.lower().endswith("/api/v2"):
        path = path[: -len("/api/v2")]
    if path:
        msg = f"url {shown!r} has an unexpected path {path!r}: use https://acme.zendesk.com"
        raise ValueError(msg)
    if not (_HOST_NAME.match(host) or _is_ip(host)):
        msg = f"url {shown!r} is not a valid address: use e.g. https://acme.zendesk.com"
        raise ValueError(msg)
    if host.endswith(".zendesk.com") and not _SUBDOMAIN.match(host.removesuffix(".zendesk.com")):
        msg = f"url {shown!r} has an invalid Zendesk subdomain"
        raise ValueError(msg)
    if parts.scheme == "http" and not _is_loopback(host):
        msg = (
            f"url {shown!r} uses plain http: use https:// "
            "(http is accepted only for loopback hosts such as 127.0.0.1)"
        )
        raise ValueError(msg)
    try:
        port = parts.port
    except ValueError:
        msg = f"url {shown!r} has an invalid port"
        raise ValueError(msg) from None
    netloc = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{netloc.lower()}{f':{port}' if port else ''}"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_loopback(host: str) -> bool:
    return host.lower() == "localhost" or (_is_ip(host) and ipaddress.ip_address(host).is_loopback)


def _credential(config: t.Mapping[str, t.Any]) -> tuple[str, str | None, str]:
    method = _choice(config, "auth_method", AUTH_METHODS)
    field = CREDENTIAL_FIELD[method]
    credential = config.get(field)
    # With only client_id, the refresh token is the one `auth login` left in the store.
    if method == "oauth" and not credential and config.get("client_id"):
        credential = ""  # the refresh token (in the config or the store) makes access tokens
    elif not credential:
        others = [f for m, f in CREDENTIAL_FIELD.items() if m != method and config.get(f)]
        if others:
            other_method = next(m for m, f in CREDENTIAL_FIELD.items() if f == others[0])
            msg = (
                f"auth_method is {method} but {field} is not set ({others[0]} is): "
                f"set {field}, or set auth_method to {other_method}"
            )
        elif method == "oauth":
            msg = (
                "oauth_token is required when auth_method is oauth, unless client_id and a "
                "refresh token are set: run `tap-zendesk auth login --config <config>` to "
                "authorize, or use auth_method client_credentials"
            )
        elif method == "client_credentials":
            msg = (
                "client_secret is required when auth_method is client_credentials: the secret "
                "of a confidential OAuth client (Admin Center > Apps and integrations > APIs > "
                "OAuth clients)"
            )
        else:
            msg = f"{field} is required when auth_method is {method}"
        raise ValueError(msg)
    if not isinstance(credential, str):
        msg = f"{field} must be a string"
        raise ValueError(msg)
    email = config.get("email") or None
    if method in ("api_token", "password") and not email:
        msg = f"email is required when auth_method is {method}: the Zendesk user name"
        raise ValueError(msg)
    if email is not None and (not isinstance(email, str) or "@" not in email):
        msg = "email must be the Zendesk user's email address, e.g. admin@acme.com"
        raise ValueError(msg)
    return method, email, credential


def _start(config: t.Mapping[str, t.Any], now: dt.datetime) -> dt.datetime:
    start_date, days_back = config.get("start_date"), config.get("days_back")
    if start_date not in (None, "") and days_back is not None:
        msg = "set either start_date or days_back, not both"
        raise ValueError(msg)
    if days_back is not None:
        if isinstance(days_back, bool) or not isinstance(days_back, int) or days_back < 0:
            msg = f"days_back must be a whole number >= 0 (0 = today), not {days_back!r}"
            raise ValueError(msg)
        midnight = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight - dt.timedelta(days=days_back)
    if start_date in (None, ""):
        msg = "start_date or days_back is required: e.g. start_date 2024-01-01 or days_back 30"
        raise ValueError(msg)
    try:
        parsed = pendulum.parse(str(start_date), tz="UTC")
    except ValueError:  # pendulum's ParserError is a ValueError
        parsed = None
    if not isinstance(parsed, (dt.datetime, dt.date)):
        msg = (
            f"start_date {start_date!r} is not a date or date-time: "
            "use e.g. 2024-01-31 or 2024-01-31T00:00:00Z"
        )
        raise ValueError(msg)
    if not isinstance(parsed, dt.datetime):
        parsed = dt.datetime.combine(parsed, dt.time(), tzinfo=dt.UTC)
    start = parsed.astimezone(dt.UTC)
    if start > now:
        msg = f"start_date {start_date!r} is in the future: nothing can be extracted from it yet"
        raise ValueError(msg)
    return start


def _integer(config: t.Mapping[str, t.Any], field: str, default: int, low: int, high: int) -> int:
    value = config.get(field)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        msg = f"{field} must be a whole number from {low} to {high}, not {value!r}"
        raise ValueError(msg)
    return value


def _choice(config: t.Mapping[str, t.Any], field: str, choices: tuple[str, ...]) -> str:
    value = config.get(field) or choices[0]
    if value not in choices:
        msg = f"{field} {value!r} is not one of {', '.join(choices)}"
        raise ValueError(msg)
    return value


def _positive_number(value: object) -> bool:
    # singer-sdk reads JSON numbers with a fraction as Decimal.
    return (
        isinstance(value, (int, float, decimal.Decimal))
        and not isinstance(value, bool)
        and value > 0
    )


def tls_verify(ca_bundle: str | None) -> str | bool:
    """What requests should verify Zendesk's certificate with: the configured CA bundle, else
    the one the standard variables name (requests', curl's, OpenSSL's), else True (the bundle
    requests ships). Needed because Session.send, which the SDK uses, reads no variable."""
    if ca_bundle:
        return ca_bundle
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        if value := os.environ.get(name):
            return value
    return True


def _ca_bundle(config: t.Mapping[str, t.Any]) -> str | None:
    value = config.get("ca_bundle")
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not os.path.isfile(value):
        msg = (
            f"ca_bundle must be the path of a PEM file of CA certificates; {value!r} is not a file"
        )
        raise ValueError(msg)
    return value


def _rate(config: t.Mapping[str, t.Any], field: str) -> float | None:
    value = config.get(field)
    if value is None:
        return None
    if not _positive_number(value):
        msg = f"{field} must be a number of requests per minute > 0, not {value!r}"
        raise ValueError(msg)
    return float(value)


def _seconds(config: t.Mapping[str, t.Any], field: str, default: float) -> float:
    value = config.get(field)
    if value is None:
        return default
    if not _positive_number(value):
        msg = f"{field} must be a number of seconds > 0, not {value!r}"
        raise ValueError(msg)
    return float(value)


def _start_setting(config: t.Mapping[str, t.Any], start: dt.datetime) -> str:
    if config.get("days_back") is not None:
        return f"days_back={config['days_back']}"
    return f"start_date={start.isoformat()}"


def _flag(config: t.Mapping[str, t.Any], field: str, default: bool) -> bool:
    value = config.get(field)
    if value is None:
        return default
    if not isinstance(value, bool):
        msg = f"{field} must be true or false, not {value!r}"
        raise ValueError(msg)
    return value


def search_queries(config: t.Mapping[str, t.Any]) -> tuple[SearchQuery, ...]:
    """`search_queries` then `premade_queries`, each name once."""
    custom = config.get("search_queries") or []
    premade = config.get("premade_queries") or []
    if not isinstance(custom, list):
        msg = 'search_queries must be a list such as [{"name": "vip", "query": "type:ticket"}]'
        raise ValueError(msg)
    if not isinstance(premade, list) or any(name not in PREMADE_QUERIES for name in premade):
        msg = f"premade_queries must be a list of names from: {', '.join(PREMADE_QUERIES)}"
        raise ValueError(msg)
    searches: list[SearchQuery] = []
    for position, entry in enumerate(custom):
        name = entry.get("name") if isinstance(entry, dict) else None
        query = entry.get("query") if isinstance(entry, dict) else None
        if name == "counts":
            msg = (
                f"search_queries[{position}].name 'counts' is reserved: search_counts is the "
                "stream of the queries' result counts"
            )
            raise ValueError(msg)
        if not isinstance(name, str) or not _QUERY_NAME.match(name):
            msg = (
                f"search_queries[{position}].name must be lower-case letters, digits and _ "
                f"starting with a letter (it becomes the stream search_<name>), not {name!r}"
            )
            raise ValueError(msg)
        if not isinstance(query, str) or not query.strip():
            msg = f"search_queries[{position}] ({name}) needs a query in Zendesk search syntax"
            raise ValueError(msg)
        searches.append(SearchQuery(name, query.strip()))
    searches += [SearchQuery(name, PREMADE_QUERIES[name]) for name in dict.fromkeys(premade)]
    names = [search.name for search in searches]
    if duplicated := sorted({name for name in names if names.count(name) > 1}):
        msg = f"search query name {duplicated[0]!r} is used twice: give each query its own name"
        raise ValueError(msg)
    return tuple(searches)


def _sideloads(config: t.Mapping[str, t.Any]) -> tuple[str, ...]:
    value = config.get("ticket_sideloads") or []
    if not isinstance(value, list):
        msg = 'ticket_sideloads must be a list such as ["metric_sets", "users"]'
        raise ValueError(msg)
    for name in value:
        if name == "last_audits":
            msg = "ticket_sideloads: last_audits is not offered by the incremental ticket export"
            raise ValueError(msg)
        if name not in TICKET_SIDELOADS:
            msg = f"ticket_sideloads: {name!r} is not one of {', '.join(TICKET_SIDELOADS)}"
            raise ValueError(msg)
    return tuple(dict.fromkeys(value))


def _oauth_refresh(config: t.Mapping[str, t.Any]) -> OAuthRefresh | None:
    fields = ("refresh_token", "client_id", "client_secret", "oauth_token_store")
    given = {name: config.get(name) for name in fields if config.get(name) not in (None, "")}
    method = config.get("auth_method") or AUTH_METHODS[0]
    if method == "client_credentials":
        if stray := [name for name in ("refresh_token", "oauth_token_store") if name in given]:
            msg = (
                f"{' and '.join(stray)} only apply when auth_method is oauth: client_credentials "
                "makes a new access token every run and keeps nothing; remove them"
            )
            raise ValueError(msg)
        return None
    if not given:
        return None
    if method != "oauth":
        msg = (
            f"{', '.join(given)} only apply when auth_method is oauth or client_credentials: "
            "remove them or set auth_method"
        )
        raise ValueError(msg)
    for name, value in given.items():
        if not isinstance(value, str):
            msg = f"{name} must be a string"
            raise ValueError(msg)
    if "client_id" not in given:
        msg = (
            "client_id must be set too: refreshing an OAuth token needs the refresh_token and "
            "the OAuth client's client_id (and client_secret if it has one)"
        )
        raise ValueError(msg)
    return OAuthRefresh(
        refresh_token=given.get("refresh_token"),
        client_id=given["client_id"],
        client_secret=given.get("client_secret"),
        token_store=given.get("oauth_token_store"),
    )


def _oauth_client(config: t.Mapping[str, t.Any]) -> OAuthClient | None:
    method = config.get("auth_method") or AUTH_METHODS[0]
    scope = config.get("oauth_scope")
    if scope is not None and (not isinstance(scope, str) or not scope.split()):
        msg = 'oauth_scope must be Zendesk OAuth scopes separated by spaces, e.g. "read"'
        raise ValueError(msg)
    if method != "client_credentials":
        return None
    client_id, secret = config.get("client_id"), config.get("client_secret")
    if not client_id or not isinstance(client_id, str):
        msg = (
            "client_id is required when auth_method is client_credentials: the Unique "
            "identifier of the OAuth client (Admin Center > Apps and integrations > APIs > "
            "OAuth clients)"
        )
        raise ValueError(msg)
    return OAuthClient(
        client_id, str(secret or ""), " ".join((scope or DEFAULT_OAUTH_SCOPE).split())
    )


def _no_batch(config: t.Mapping[str, t.Any]) -> None:
    # The SDK would still honour it, but its BATCH files can be written after the STATE that
    # covers them: a run killed in between would resume past records never delivered.
    if config.get("batch_config"):
        msg = "batch_config is not supported (it could lose records on a crash): remove it"
        raise ValueError(msg)
