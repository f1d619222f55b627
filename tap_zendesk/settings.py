"""Turning raw config into facts the streams use: where Zendesk is, who we are, from when.

`Settings.from_config` either returns a complete, consistent `Settings` or raises
`ConfigValidationError` whose errors each name the field to fix.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import ipaddress
import re
import typing as t
from urllib.parse import urlsplit

import pendulum
from singer_sdk.exceptions import ConfigValidationError

AUTH_METHODS = ("api_token", "password", "oauth")
CREDENTIAL_FIELD = {"api_token": "api_token", "password": "password", "oauth": "oauth_token"}
MAX_PAGE_SIZE = 1000
DEFAULT_REQUEST_TIMEOUT = 300.0
DEFAULT_MAX_RETRIES = 8
DEFAULT_RATE_LIMIT_PER_MINUTE = 400
DEFAULT_EXPORT_RATE_LIMIT_PER_MINUTE = 10
COMMENTS_SOURCES = ("ticket_events", "per_ticket")
DEFAULT_PARALLEL_REQUESTS = 8
MAX_PARALLEL_REQUESTS = 32

_SUBDOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", re.IGNORECASE)
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$", re.IGNORECASE)


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
    parallel_requests: int = DEFAULT_PARALLEL_REQUESTS
    rate_limit_per_minute: float = DEFAULT_RATE_LIMIT_PER_MINUTE
    export_rate_limit_per_minute: float = DEFAULT_EXPORT_RATE_LIMIT_PER_MINUTE

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
        timeout = attempt(lambda: _timeout(config))
        retries = attempt(lambda: _integer(config, "max_retries", DEFAULT_MAX_RETRIES, 0, 100))
        user_agent = config.get("user_agent") or None
        comments_source = attempt(lambda: _choice(config, "comments_source", COMMENTS_SOURCES))
        parallel = attempt(
            lambda: _integer(
                config, "parallel_requests", DEFAULT_PARALLEL_REQUESTS, 1, MAX_PARALLEL_REQUESTS
            )
        )
        rate = attempt(
            lambda: _rate(config, "rate_limit_per_minute", DEFAULT_RATE_LIMIT_PER_MINUTE)
        )
        export_rate = attempt(
            lambda: _rate(
                config, "export_rate_limit_per_minute", DEFAULT_EXPORT_RATE_LIMIT_PER_MINUTE
            )
        )
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
            parallel_requests=parallel,
            rate_limit_per_minute=rate,
            export_rate_limit_per_minute=export_rate,
        )


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
    if not credential:
        others = [f for m, f in CREDENTIAL_FIELD.items() if m != method and config.get(f)]
        if others:
            other_method = next(m for m, f in CREDENTIAL_FIELD.items() if f == others[0])
            msg = (
                f"auth_method is {method} but {field} is not set ({others[0]} is): "
                f"set {field}, or set auth_method to {other_method}"
            )
        else:
            msg = f"{field} is required when auth_method is {method}"
        raise ValueError(msg)
    if not isinstance(credential, str):
        msg = f"{field} must be a string"
        raise ValueError(msg)
    email = config.get("email") or None
    if method != "oauth" and not email:
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


def _rate(config: t.Mapping[str, t.Any], field: str, default: float) -> float:
    value = config.get(field)
    if value is None:
        return float(default)
    if not _positive_number(value):
        msg = f"{field} must be a number of requests per minute > 0, not {value!r}"
        raise ValueError(msg)
    return float(value)


def _timeout(config: t.Mapping[str, t.Any]) -> float:
    value = config.get("request_timeout")
    if value is None:
        return DEFAULT_REQUEST_TIMEOUT
    if not _positive_number(value):
        msg = f"request_timeout must be a number of seconds > 0, not {value!r}"
        raise ValueError(msg)
    return float(value)
