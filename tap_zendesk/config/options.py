"""The tap's settings, one row each: the only place a setting's default or words are written.

The config JSON schema (and so `--about` and the README's table), meltano.yml's settings and
the defaults `Settings` falls back on are all made from `OPTIONS`, so they cannot disagree.
"""

from __future__ import annotations

import dataclasses
import typing as t
from types import MappingProxyType

from singer_sdk import typing as th

MAX_PAGE_SIZE = 1000
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


@dataclasses.dataclass(frozen=True)
class Option:
    """One setting: what it holds, its default and how it is explained to whoever sets it."""

    name: str
    type: th.JSONTypeHelper | type[th.JSONTypeHelper]
    title: str
    description: str
    default: t.Any = None
    secret: bool = False
    # (value, label) pairs: the values are the only ones accepted, the labels are Meltano's.
    choices: tuple[tuple[str, str], ...] = ()
    examples: tuple[t.Any, ...] = ()
    # Smallest and largest whole number accepted (the schema leaves range checks to Settings).
    bounds: tuple[int, int] | None = None
    # Where Meltano has a narrower kind than the JSON type gives (an email address).
    meltano_kind: str | None = None

    @property
    def values(self) -> tuple[str, ...]:
        """The values the setting accepts, when it is a choice."""
        return tuple(value for value, _label in self.choices)

    def schema_property(self) -> th.Property:
        """The setting in the config JSON schema."""
        return th.Property(
            self.name,
            self.type,
            default=self.default,
            secret=self.secret,
            allowed_values=list(self.values) or None,
            examples=list(self.examples) or None,
            title=self.title,
            description=self.description,
        )


OPTIONS: tuple[Option, ...] = (
    Option(
        "url",
        th.StringType,
        "Zendesk URL",
        "Your Zendesk address: `acme`, `acme.zendesk.com`, `https://acme.zendesk.com` or a "
        "host-mapped `https://support.acme.com` (a trailing `/api/v2` is fine). Plain http is "
        "accepted only for loopback hosts.",
        examples=("https://acme.zendesk.com",),
    ),
    Option(
        "subdomain",
        th.StringType,
        "Subdomain (alias of url)",
        "Accepted in place of `url`, for configs moved from other Zendesk taps.",
    ),
    Option(
        "email",
        th.StringType,
        "User name",
        "Email address of the Zendesk user (only for api_token and password).",
        meltano_kind="email",
    ),
    Option(
        "auth_method",
        th.StringType,
        "Authentication method",
        "`client_credentials` (recommended: a confidential OAuth client makes its own access "
        "tokens), `oauth` (a token from `tap-zendesk auth login`, or one made by hand), "
        "`api_token` (the default; Zendesk retires API tokens on 30 April 2027) or `password` "
        "(refused by Zendesk since January 2026).",
        choices=(
            ("api_token", "API token (retired by Zendesk on 30 April 2027)"),
            ("password", "Password (refused by Zendesk since January 2026)"),
            ("oauth", "OAuth (refresh token or access token)"),
            ("client_credentials", "OAuth client credentials (recommended)"),
        ),
        default="api_token",
    ),
    Option(
        "api_token",
        th.StringType,
        "API token",
        "Zendesk API token, sent as HTTP Basic `{email}/token:{api_token}`. Works until "
        "30 April 2027, unless unused for 30 days.",
        secret=True,
    ),
    Option(
        "password",
        th.StringType,
        "Password",
        "The user's password. Zendesk refuses password access since January 2026.",
        secret=True,
    ),
    Option(
        "oauth_token",
        th.StringType,
        "OAuth access token",
        "An OAuth access token sent as `Authorization: Bearer` when auth_method is `oauth`; "
        "renewed only with a refresh token.",
        secret=True,
    ),
    Option(
        "refresh_token",
        th.StringType,
        "OAuth refresh token",
        "Renews OAuth access tokens (with client_id, and client_secret for a confidential "
        "client). Zendesk replaces it on every renewal; the new one is kept in "
        "oauth_token_store, where `tap-zendesk auth login` also writes it.",
        secret=True,
    ),
    Option(
        "client_id",
        th.StringType,
        "OAuth client id",
        "The Unique identifier of the OAuth client (Admin Center > Apps and integrations > "
        "APIs > OAuth clients).",
    ),
    Option(
        "client_secret",
        th.StringType,
        "OAuth client secret",
        "The OAuth client's secret: required for client_credentials, and for refreshing tokens "
        "of a confidential client.",
        secret=True,
    ),
    Option(
        "oauth_token_store",
        th.StringType,
        "OAuth token store",
        "File (written atomically, mode 600) holding the current OAuth refresh token between "
        "runs; put it on persistent storage. Defaults to ~/.config/tap-zendesk/oauth-<host>.json.",
    ),
    Option(
        "oauth_scope",
        th.StringType,
        "OAuth scope",
        "Scopes asked for by client_credentials and `auth login`, space-separated; `read` "
        "covers everything the tap reads.",
        # Zendesk's "read" scope covers every GET endpoint the tap calls, side-loads included.
        default="read",
    ),
    Option(
        "start_date",
        th.DateTimeType,
        "Start date",
        "Extract records changed on or after this date or date-time (UTC unless an offset is "
        "given). Set this or `days_back`.",
    ),
    Option(
        "days_back",
        th.IntegerType,
        "Days back",
        "Start N days back, counted in UTC from the start of that day: 0 = today, "
        "1 = yesterday. Set this or `start_date`.",
    ),
    Option(
        "page_size",
        th.IntegerType,
        "Export page size",
        f"Records per incremental export page (1 to {MAX_PAGE_SIZE}).",
        default=MAX_PAGE_SIZE,
        bounds=(1, MAX_PAGE_SIZE),
    ),
    Option(
        "request_timeout",
        th.NumberType,
        "Request timeout",
        "Seconds to wait for one response before retrying it.",
        default=300,
    ),
    Option(
        "max_retries",
        th.IntegerType,
        "Maximum retries",
        "Retries of a request failing with 5xx, a timeout, a dropped connection or a broken "
        "body. 429 responses are waited out and do not count.",
        default=8,
        bounds=(0, 100),
    ),
    Option(
        "rate_limit_per_minute",
        th.NumberType,
        "Account rate limit ceiling",
        "Most requests a minute to send to the account. By default the tap uses the limit "
        "Zendesk states in every response (x-rate-limit: Team 200, Growth and Professional 400, "
        "Enterprise 700, High Volume 2500), assuming 200 until the first answer; set a lower "
        "figure to leave room for other integrations.",
    ),
    Option(
        "export_rate_limit_per_minute",
        th.NumberType,
        "Incremental export rate limit ceiling",
        "Most requests a minute to the incremental exports. By default 10, or what Zendesk "
        "states in its zendesk-ratelimit-incremental-exports header (30 with High Volume); set "
        "30 if you have High Volume and Zendesk does not say so.",
    ),
    Option(
        "outage_limit_seconds",
        th.NumberType,
        "Outage limit",
        "How long a run waits out Zendesk failing (5xx, 409, no connection or no answer), "
        "following its Retry-After, before it ends with one line; the next run resumes from the "
        "last STATE. A broken body is retried max_retries times instead.",
        # Zendesk's maintenance windows and incidents last minutes: a run waits that long.
        default=1800.0,
    ),
    Option(
        "ca_bundle",
        th.StringType,
        "CA bundle",
        "A PEM file of CA certificates to trust for Zendesk, e.g. a TLS-inspecting proxy's. By "
        "default REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE or SSL_CERT_FILE when set, else the bundle "
        "requests ships. Proxies come from HTTPS_PROXY/NO_PROXY.",
    ),
    Option(
        "rate_limit_window_seconds",
        th.NumberType,
        "Rate limit window",
        "Seconds over which Zendesk counts a rate limit (60). Only for emulators that compress "
        "Zendesk's clock.",
        default=60.0,
    ),
    Option(
        "comments_source",
        th.StringType,
        "Comments source",
        "`ticket_events` (default): comments in bulk from the ticket events export, 1000 events "
        "per request. `per_ticket`: one `/tickets/{id}/comments.json` read per changed ticket, "
        "for accounts where the event export is not allowed.",
        choices=(
            ("ticket_events", "Ticket events export (bulk)"),
            ("per_ticket", "Per ticket"),
        ),
        default="ticket_events",
    ),
    Option(
        "ticket_scope",
        th.StringType,
        "Ticket scope (support type)",
        "Which tickets the ticket exports and the ticket events export give "
        "(`support_type_scope`): `all` (default), `agent` (tickets handled by people; Zendesk's "
        "own default) or `ai_agent` (AI-agent tickets of bot-only conversations). Applies to "
        "tickets, ticket_comments, ticket_audits, ticket_events and the streams they feed.",
        choices=(
            ("all", "All tickets"),
            ("agent", "Agent tickets only"),
            ("ai_agent", "AI-agent tickets only"),
        ),
        # Not Zendesk's `agent`, which leaves out AI-agent tickets.
        default="all",
    ),
    Option(
        "parallel_requests",
        th.IntegerType,
        "Parallel requests",
        "Workers for per-ticket reads (comments in `per_ticket` mode), "
        f"1 to {MAX_PARALLEL_REQUESTS}.",
        default=8,
        bounds=(1, MAX_PARALLEL_REQUESTS),
    ),
    Option(
        "search_queries",
        th.ArrayType(
            th.ObjectType(
                th.Property("name", th.StringType, required=True),
                th.Property("query", th.StringType, required=True),
            )
        ),
        "Search queries",
        "Zendesk searches to extract, each as its own stream `search_<name>`, e.g. "
        '`[{"name": "vip_pending", "query": "type:ticket status:pending tags:vip"}]`. '
        "Names: lower-case letters, digits and `_`.",
    ),
    Option(
        "premade_queries",
        th.ArrayType(th.StringType(allowed_values=list(PREMADE_QUERIES))),
        "Ready-made search queries",
        "Ready-made searches by name: "
        + ", ".join(f"`{name}` (`{query}`)" for name, query in PREMADE_QUERIES.items())
        + ".",
    ),
    Option(
        "ticket_sideloads",
        th.ArrayType(th.StringType(allowed_values=list(TICKET_SIDELOADS))),
        "Associated data (ticket side-loads)",
        "`include=` values of the ticket export. Per ticket ("
        + ", ".join(f"`{name}`" for name in PER_TICKET_SIDELOADS)
        + ") land on each ticket record; `metric_sets` also feeds `ticket_metrics`. Objects ("
        + ", ".join(f"`{name}`" for name in OBJECT_SIDELOADS)
        + ") are emitted as records of their own stream, without extra requests.",
    ),
    Option(
        "include_attachments",
        th.BooleanType,
        "Include attachments",
        "Keep `attachments` on comments and offer the `ticket_comment_attachments` stream. "
        "False: nothing attachment-related is emitted.",
        default=True,
    ),
    Option(
        "exclude_deleted",
        th.BooleanType,
        "Exclude deleted records",
        "Leave out deleted tickets, users and organizations and deleted metric events. "
        "Default false: deleted rows are emitted so a merging target sees the delete.",
        default=False,
    ),
    Option(
        "legacy_schema",
        th.BooleanType,
        "Legacy schema",
        "Emit the stream names, columns, types and keys of the incumbent Singer tap "
        "(tap-zendesk 2.8.2), so switching taps changes no downstream column. Turns typed "
        "custom-field columns off.",
        default=False,
    ),
    Option(
        "typed_custom_fields",
        th.BooleanType,
        "Typed custom-field columns",
        "At discovery, read the ticket, user and organization field definitions and give each "
        "active custom field its own typed column.",
        default=True,
    ),
    Option(
        "emit_activate_version_messages",
        th.BooleanType,
        "Emit ACTIVATE_VERSION messages",
        "Streams read whole in every run (FULL_TABLE in the catalog: ticket fields, forms, ...) "
        "send ACTIVATE_VERSION and version their records, so a target that honours it replaces "
        "the table with each run's rows.",
        default=False,
    ),
    Option(
        "progress_interval",
        th.NumberType,
        "Progress interval",
        "Seconds between the progress lines each running stream logs.",
        default=30.0,
    ),
    Option(
        "user_agent",
        th.StringType,
        "User agent",
        "User-Agent header; defaults to this tap's name and version.",
    ),
)
OPTION: t.Mapping[str, Option] = MappingProxyType({option.name: option for option in OPTIONS})
# What a setting left out of the config means; settings without a default are absent.
DEFAULTS: t.Mapping[str, t.Any] = MappingProxyType(
    {option.name: option.default for option in OPTIONS if option.default is not None}
)


def config_jsonschema() -> dict[str, t.Any]:
    """The JSON schema of the config, before the SDK adds its own settings (stream maps, ...)."""
    return th.PropertiesList(*(option.schema_property() for option in OPTIONS)).to_dict()
