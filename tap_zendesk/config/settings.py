"""Turning raw config into facts the streams use: where Zendesk is, who we are, from when.

`Settings.from_config` either returns a complete, consistent `Settings` or raises
`ConfigValidationError` whose errors each name the field to fix. What a setting left out
means is the default in options.py; the address and the credentials are checked in
address.py and credentials.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import re
import typing as t

import pendulum
from singer_sdk.exceptions import ConfigValidationError

from tap_zendesk.config.address import base_url_of, ca_bundle_of
from tap_zendesk.config.address import tls_verify as tls_verify
from tap_zendesk.config.credentials import (
    OAuthClient,
    OAuthRefresh,
    credential_of,
    oauth_client_of,
    oauth_refresh_of,
)
from tap_zendesk.config.options import DEFAULTS, OPTION, PREMADE_QUERIES, TICKET_SIDELOADS
from tap_zendesk.config.options import MAX_PARALLEL_REQUESTS as MAX_PARALLEL_REQUESTS
from tap_zendesk.config.options import OBJECT_SIDELOADS as OBJECT_SIDELOADS
from tap_zendesk.config.options import PER_TICKET_SIDELOADS as PER_TICKET_SIDELOADS

# The `x as x` imports above are re-exports: the streams and the API client import them from
# here, as they did before the names moved to address.py and options.py.

_QUERY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# Settings read alike: true or false, with the table's default when left out.
_FLAGS = ("include_attachments", "legacy_schema", "exclude_deleted", "typed_custom_fields")


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
    comments_source: str
    ticket_scope: str
    parallel_requests: int
    # Ceilings on the budgets Zendesk states (None: Zendesk's own figures).
    rate_limit_per_minute: float | None
    export_rate_limit_per_minute: float | None
    rate_limit_window_seconds: float
    # A CA bundle to trust instead of the default one (a TLS-inspecting proxy's CA).
    ca_bundle: str | None
    outage_limit_seconds: float
    # How the start was configured ("start_date=<iso>" or "days_back=<n>"): a change of it,
    # not the daily move of a days_back date, restarts incremental streams from the new start.
    start_setting: str
    searches: tuple[SearchQuery, ...]
    ticket_sideloads: tuple[str, ...]
    include_attachments: bool
    legacy_schema: bool
    exclude_deleted: bool
    typed_custom_fields: bool
    oauth_refresh: OAuthRefresh | None
    oauth_client: OAuthClient | None
    progress_interval: float

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

        base_url = attempt(lambda: base_url_of(config))
        auth = attempt(lambda: credential_of(config, _choice(config, "auth_method")))
        start = attempt(lambda: _start(config, now))
        page_size = attempt(lambda: _integer(config, "page_size"))
        timeout = attempt(lambda: _number(config, "request_timeout", "seconds"))
        retries = attempt(lambda: _integer(config, "max_retries"))
        user_agent = config.get("user_agent") or None
        comments_source = attempt(lambda: _choice(config, "comments_source"))
        ticket_scope = attempt(lambda: _choice(config, "ticket_scope"))
        parallel = attempt(lambda: _integer(config, "parallel_requests"))
        rate = attempt(lambda: _number(config, "rate_limit_per_minute", "requests per minute"))
        export_rate = attempt(
            lambda: _number(config, "export_rate_limit_per_minute", "requests per minute")
        )
        window = attempt(lambda: _number(config, "rate_limit_window_seconds", "seconds"))
        attempt(lambda: _no_batch(config))
        ca_bundle = attempt(lambda: ca_bundle_of(config))
        outage_limit = attempt(lambda: _number(config, "outage_limit_seconds", "seconds"))
        oauth_refresh = attempt(lambda: oauth_refresh_of(config))
        oauth_client = attempt(lambda: oauth_client_of(config))
        progress = attempt(lambda: _number(config, "progress_interval", "seconds"))
        searches = attempt(lambda: search_queries(config))
        sideloads = attempt(lambda: _sideloads(config))
        flags = {name: attempt(lambda name=name: _flag(config, name)) for name in _FLAGS}
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


def _integer(config: t.Mapping[str, t.Any], field: str) -> int:
    value = config.get(field)
    if value is None:
        return DEFAULTS[field]
    bounds = OPTION[field].bounds
    assert bounds is not None, f"options.py gives {field} no bounds"
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        msg = f"{field} must be a whole number from {low} to {high}, not {value!r}"
        raise ValueError(msg)
    return value


def _choice(config: t.Mapping[str, t.Any], field: str) -> str:
    value = config.get(field) or DEFAULTS[field]
    if value not in (choices := OPTION[field].values):
        msg = f"{field} {value!r} is not one of {', '.join(choices)}"
        raise ValueError(msg)
    return value


def _number(config: t.Mapping[str, t.Any], field: str, unit: str) -> float | None:
    """A number > 0 of `unit`, the default when left out (None for a setting without one)."""
    value = config.get(field)
    if value is None:
        value = DEFAULTS.get(field)
    if value is None:
        return None
    # singer-sdk reads JSON numbers with a fraction as Decimal.
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, decimal.Decimal))
        or not value > 0
    ):
        msg = f"{field} must be a number of {unit} > 0, not {value!r}"
        raise ValueError(msg)
    return float(value)


def _start_setting(config: t.Mapping[str, t.Any], start: dt.datetime) -> str:
    if config.get("days_back") is not None:
        return f"days_back={config['days_back']}"
    return f"start_date={start.isoformat()}"


def _flag(config: t.Mapping[str, t.Any], field: str) -> bool:
    value = config.get(field)
    if value is None:
        return DEFAULTS[field]
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


def _no_batch(config: t.Mapping[str, t.Any]) -> None:
    # The SDK would still honour it, but its BATCH files can be written after the STATE that
    # covers them: a run killed in between would resume past records never delivered.
    if config.get("batch_config"):
        msg = "batch_config is not supported (it could lose records on a crash): remove it"
        raise ValueError(msg)
