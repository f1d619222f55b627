"""TapZendesk: the settings it accepts and the streams it offers (its command-line behaviour
is in cli.py)."""

from __future__ import annotations

import typing as t
from functools import cached_property

from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from singer_sdk.helpers.capabilities import CapabilitiesEnum, PluginCapabilities

from tap_zendesk import DISTRIBUTION
from tap_zendesk.api.oauth import OAuthTokens
from tap_zendesk.api.ratelimit import ACCOUNT, EXPORT, SEARCH, RateGovernor
from tap_zendesk.api.requester import Requester
from tap_zendesk.cli import GuardedTap
from tap_zendesk.login import describe_user
from tap_zendesk.output import BufferedWriter
from tap_zendesk.report import RunReport
from tap_zendesk.settings import (
    AUTH_METHODS,
    COMMENTS_SOURCES,
    DEFAULT_OAUTH_SCOPE,
    DEFAULT_OUTAGE_LIMIT_SECONDS,
    DEFAULT_PARALLEL_REQUESTS,
    DEFAULT_PROGRESS_INTERVAL,
    DEFAULT_RATE_LIMIT_WINDOW_SECONDS,
    MAX_PAGE_SIZE,
    MAX_PARALLEL_REQUESTS,
    OBJECT_SIDELOADS,
    PER_TICKET_SIDELOADS,
    PREMADE_QUERIES,
    TICKET_SCOPES,
    TICKET_SIDELOADS,
    Settings,
)
from tap_zendesk.streams import stream_classes
from tap_zendesk.streams.base import ZendeskStream
from tap_zendesk.streams.incremental import IncrementalExportStream
from tap_zendesk.streams.lists import ListReads


class TapZendesk(GuardedTap):
    """Singer tap for Zendesk Support: incremental, resumable and paced to Zendesk's limits."""

    name = "tap-zendesk"
    package_name = DISTRIBUTION
    message_writer_class = BufferedWriter
    # The SDK's capabilities but batch: in batch mode a page's STATE goes out before the BATCH
    # message holding its records, so a run killed in between would resume past them.
    capabilities: t.ClassVar[list[CapabilitiesEnum]] = [
        capability for capability in Tap.capabilities if capability != PluginCapabilities.BATCH
    ]

    config_jsonschema = th.PropertiesList(
        th.Property(
            "url",
            th.StringType,
            title="Zendesk URL",
            description=(
                "Your Zendesk address: `acme`, `acme.zendesk.com`, `https://acme.zendesk.com` "
                "or a host-mapped `https://support.acme.com` (a trailing `/api/v2` is fine). "
                "Plain http is accepted only for loopback hosts."
            ),
            examples=["https://acme.zendesk.com"],
        ),
        th.Property(
            "subdomain",
            th.StringType,
            title="Subdomain (alias of url)",
            description="Accepted in place of `url`, for configs moved from other Zendesk taps.",
        ),
        th.Property(
            "email",
            th.StringType,
            title="User name",
            description="Email address of the Zendesk user (only for api_token and password).",
        ),
        th.Property(
            "auth_method",
            th.StringType,
            default="api_token",
            allowed_values=list(AUTH_METHODS),
            title="Authentication method",
            description=(
                "`client_credentials` (recommended: a confidential OAuth client makes its own "
                "access tokens), `oauth` (a token from `tap-zendesk auth login`, or one made by "
                "hand), `api_token` (the default; Zendesk retires API tokens on 30 April 2027) "
                "or `password` (refused by Zendesk since January 2026)."
            ),
        ),
        th.Property(
            "api_token",
            th.StringType,
            secret=True,
            title="API token",
            description=(
                "Zendesk API token, sent as HTTP Basic `{email}/token:{api_token}`. Works until "
                "30 April 2027, unless unused for 30 days."
            ),
        ),
        th.Property(
            "password",
            th.StringType,
            secret=True,
            title="Password",
            description="The user's password. Zendesk refuses password access since January 2026.",
        ),
        th.Property(
            "oauth_token",
            th.StringType,
            secret=True,
            title="OAuth access token",
            description=(
                "An OAuth access token sent as `Authorization: Bearer` when auth_method is "
                "`oauth`; renewed only with a refresh token."
            ),
        ),
        th.Property(
            "refresh_token",
            th.StringType,
            secret=True,
            title="OAuth refresh token",
            description=(
                "Renews OAuth access tokens (with client_id, and client_secret for a confidential "
                "client). Zendesk replaces it on every renewal; the new one is kept in "
                "oauth_token_store, where `tap-zendesk auth login` also writes it."
            ),
        ),
        th.Property(
            "client_id",
            th.StringType,
            title="OAuth client id",
            description=(
                "The Unique identifier of the OAuth client (Admin Center > Apps and "
                "integrations > APIs > OAuth clients)."
            ),
        ),
        th.Property(
            "client_secret",
            th.StringType,
            secret=True,
            title="OAuth client secret",
            description=(
                "The OAuth client's secret: required for client_credentials, and for refreshing "
                "tokens of a confidential client."
            ),
        ),
        th.Property(
            "oauth_token_store",
            th.StringType,
            title="OAuth token store",
            description=(
                "File (written atomically, mode 600) holding the current OAuth refresh token "
                "between runs; put it on persistent storage. Defaults to "
                "~/.config/tap-zendesk/oauth-<host>.json."
            ),
        ),
        th.Property(
            "oauth_scope",
            th.StringType,
            default=DEFAULT_OAUTH_SCOPE,
            title="OAuth scope",
            description=(
                "Scopes asked for by client_credentials and `auth login`, space-separated; "
                "`read` covers everything the tap reads."
            ),
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            title="Start date",
            description=(
                "Extract records changed on or after this date or date-time (UTC unless an "
                "offset is given). Set this or `days_back`."
            ),
        ),
        th.Property(
            "days_back",
            th.IntegerType,
            title="Days back",
            description=(
                "Start N days back, counted in UTC from the start of that day: 0 = today, "
                "1 = yesterday. Set this or `start_date`."
            ),
        ),
        th.Property(
            "page_size",
            th.IntegerType,
            default=MAX_PAGE_SIZE,
            title="Export page size",
            description=f"Records per incremental export page (1 to {MAX_PAGE_SIZE}).",
        ),
        th.Property(
            "request_timeout",
            th.NumberType,
            default=300,
            title="Request timeout",
            description="Seconds to wait for one response before retrying it.",
        ),
        th.Property(
            "max_retries",
            th.IntegerType,
            default=8,
            title="Maximum retries",
            description=(
                "Retries of a request failing with 5xx, a timeout, a dropped connection or a "
                "broken body. 429 responses are waited out and do not count."
            ),
        ),
        th.Property(
            "rate_limit_per_minute",
            th.NumberType,
            title="Account rate limit ceiling",
            description=(
                "Most requests a minute to send to the account. By default the tap uses the "
                "limit Zendesk states in every response (x-rate-limit: Team 200, Growth and "
                "Professional 400, Enterprise 700, High Volume 2500), assuming 200 until the "
                "first answer; set a lower figure to leave room for other integrations."
            ),
        ),
        th.Property(
            "export_rate_limit_per_minute",
            th.NumberType,
            title="Incremental export rate limit ceiling",
            description=(
                "Most requests a minute to the incremental exports. By default 10, or what "
                "Zendesk states in its zendesk-ratelimit-incremental-exports header (30 with "
                "High Volume); set 30 if you have High Volume and Zendesk does not say so."
            ),
        ),
        th.Property(
            "outage_limit_seconds",
            th.NumberType,
            default=DEFAULT_OUTAGE_LIMIT_SECONDS,
            title="Outage limit",
            description=(
                "How long a run waits out Zendesk failing (5xx, 409, no connection or no answer), "
                "following its Retry-After, before it ends with one line; the next run resumes "
                "from the last STATE. A broken body is retried max_retries times instead."
            ),
        ),
        th.Property(
            "ca_bundle",
            th.StringType,
            title="CA bundle",
            description=(
                "A PEM file of CA certificates to trust for Zendesk, e.g. a TLS-inspecting "
                "proxy's. By default REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE or SSL_CERT_FILE when "
                "set, else the bundle requests ships. Proxies come from HTTPS_PROXY/NO_PROXY."
            ),
        ),
        th.Property(
            "rate_limit_window_seconds",
            th.NumberType,
            default=DEFAULT_RATE_LIMIT_WINDOW_SECONDS,
            title="Rate limit window",
            description=(
                "Seconds over which Zendesk counts a rate limit (60). Only for emulators "
                "that compress Zendesk's clock."
            ),
        ),
        th.Property(
            "comments_source",
            th.StringType,
            default=COMMENTS_SOURCES[0],
            allowed_values=list(COMMENTS_SOURCES),
            title="Comments source",
            description=(
                "`ticket_events` (default): comments in bulk from the ticket events export, "
                "1000 events per request. `per_ticket`: one `/tickets/{id}/comments.json` read "
                "per changed ticket, for accounts where the event export is not allowed."
            ),
        ),
        th.Property(
            "ticket_scope",
            th.StringType,
            default=TICKET_SCOPES[0],
            allowed_values=list(TICKET_SCOPES),
            title="Ticket scope (support type)",
            description=(
                "Which tickets the ticket exports and the ticket events export give "
                "(`support_type_scope`): `all` (default), `agent` (tickets handled by people; "
                "Zendesk's own default) or `ai_agent` (AI-agent tickets of bot-only "
                "conversations). Applies to tickets, ticket_comments, ticket_audits, "
                "ticket_events and the streams they feed."
            ),
        ),
        th.Property(
            "parallel_requests",
            th.IntegerType,
            default=DEFAULT_PARALLEL_REQUESTS,
            title="Parallel requests",
            description=(
                "Workers for per-ticket reads (comments in `per_ticket` mode), "
                f"1 to {MAX_PARALLEL_REQUESTS}."
            ),
        ),
        th.Property(
            "search_queries",
            th.ArrayType(
                th.ObjectType(
                    th.Property("name", th.StringType, required=True),
                    th.Property("query", th.StringType, required=True),
                )
            ),
            title="Search queries",
            description=(
                "Zendesk searches to extract, each as its own stream `search_<name>`, e.g. "
                '`[{"name": "vip_pending", "query": "type:ticket status:pending tags:vip"}]`. '
                "Names: lower-case letters, digits and `_`."
            ),
        ),
        th.Property(
            "premade_queries",
            th.ArrayType(th.StringType(allowed_values=list(PREMADE_QUERIES))),
            title="Ready-made search queries",
            description=(
                "Ready-made searches by name: "
                + ", ".join(f"`{name}` (`{query}`)" for name, query in PREMADE_QUERIES.items())
                + "."
            ),
        ),
        th.Property(
            "ticket_sideloads",
            th.ArrayType(th.StringType(allowed_values=list(TICKET_SIDELOADS))),
            title="Associated data (ticket side-loads)",
            description=(
                "`include=` values of the ticket export. Per ticket ("
                + ", ".join(f"`{name}`" for name in PER_TICKET_SIDELOADS)
                + ") land on each ticket record; `metric_sets` also feeds `ticket_metrics`. "
                "Objects ("
                + ", ".join(f"`{name}`" for name in OBJECT_SIDELOADS)
                + ") are emitted as records of their own stream, without extra requests."
            ),
        ),
        th.Property(
            "include_attachments",
            th.BooleanType,
            default=True,
            title="Include attachments",
            description=(
                "Keep `attachments` on comments and offer the `ticket_comment_attachments` "
                "stream. False: nothing attachment-related is emitted."
            ),
        ),
        th.Property(
            "exclude_deleted",
            th.BooleanType,
            default=False,
            title="Exclude deleted records",
            description=(
                "Leave out deleted tickets, users and organizations and deleted metric events. "
                "Default false: deleted rows are emitted so a merging target sees the delete."
            ),
        ),
        th.Property(
            "legacy_schema",
            th.BooleanType,
            default=False,
            title="Legacy schema",
            description=(
                "Emit the stream names, columns, types and keys of the incumbent Singer tap "
                "(tap-zendesk 2.8.2), so switching taps changes no downstream column. "
                "Turns typed custom-field columns off."
            ),
        ),
        th.Property(
            "typed_custom_fields",
            th.BooleanType,
            default=True,
            title="Typed custom-field columns",
            description=(
                "At discovery, read the ticket, user and organization field definitions and "
                "give each active custom field its own typed column."
            ),
        ),
        th.Property(
            "emit_activate_version_messages",
            th.BooleanType,
            default=False,
            title="Emit ACTIVATE_VERSION messages",
            description=(
                "Streams read whole in every run (FULL_TABLE in the catalog: ticket fields, "
                "forms, ...) send ACTIVATE_VERSION and version their records, so a target "
                "that honours it replaces the table with each run's rows."
            ),
        ),
        th.Property(
            "progress_interval",
            th.NumberType,
            default=DEFAULT_PROGRESS_INTERVAL,
            title="Progress interval",
            description="Seconds between the progress lines each running stream logs.",
        ),
        th.Property(
            "user_agent",
            th.StringType,
            title="User agent",
            description="User-Agent header; defaults to this tap's name and version.",
        ),
    ).to_dict()

    # The run's shared objects: one of each per tap, made on first use ---------------------

    @cached_property
    def settings(self) -> Settings:
        """The validated config, built once per run."""
        return Settings.from_config(self.config)

    @cached_property
    def report(self) -> RunReport:
        """The run's progress lines, and its summary of 429s, waits and skips at exit."""
        return RunReport.for_run(self.logger, self.settings.progress_interval)

    @cached_property
    def governor(self) -> RateGovernor:
        """The rate budgets every stream and worker of the run draws on."""
        governor = RateGovernor(
            {
                ACCOUNT: self.settings.rate_limit_per_minute,
                EXPORT: self.settings.export_rate_limit_per_minute,
                SEARCH: None,
            },
            window=self.settings.rate_limit_window_seconds,
        )
        self.report.governor = governor
        return governor

    @cached_property
    def oauth(self) -> OAuthTokens | None:
        """The run's OAuth tokens, renewed before they expire, when auth_method uses OAuth."""
        if self.settings.auth_method not in ("oauth", "client_credentials"):
            return None
        return OAuthTokens(self.settings, self.logger)

    @cached_property
    def requester(self) -> Requester:
        """The run's request engine (api/requester.py)."""
        return Requester(self.settings, self.governor, self.logger, oauth=self.oauth)

    @cached_property
    def list_reads(self) -> ListReads:
        """The selected account lists, read ahead while the exports wait (lists.py)."""
        return ListReads(
            [s for s in self.streams.values() if isinstance(s, ZendeskStream) and s.reads_a_list]
        )

    @cached_property
    def field_definitions(self) -> dict[str, list[dict[str, t.Any]] | None]:
        """Custom field definitions by endpoint, read once per run (custom_fields)."""
        return {}

    @cached_property
    def exports_read(self) -> set[str]:
        """Exports already read in this run for every stream they feed (ticket events)."""
        return set()

    def run_connection_test(self) -> bool:
        """Say which credential worked and whose it is, then read a record of each stream."""
        stream = next(s for s in self.streams.values() if isinstance(s, ZendeskStream))
        user = stream.current_user()
        method = self.oauth.method if self.oauth is not None else self.settings.auth_method
        self.logger.info(
            "Connection test: %s accepted %s, authenticated as %s",
            self.settings.base_url,
            method,
            describe_user(user),
        )
        return super().run_connection_test()

    # Streams ------------------------------------------------------------------------------

    def discover_streams(self) -> list[Stream]:
        """Every stream this tap offers."""
        return [stream_class(tap=self) for stream_class in stream_classes(self.config)]

    # True during a whole sync, when reading lists ahead of their turn pays (prefetch.py);
    # not when one stream is read alone.
    syncing_all = False

    def sync_all(self) -> None:
        """Sync every selected stream, the account lists read while the exports wait."""
        self.syncing_all = True
        try:
            super().sync_all()
        finally:
            self.syncing_all = False

    def load_streams(self) -> list[Stream]:
        """The streams in the order they sync: the incremental exports first, then the rest.

        The SDK orders them by name. The exports bind a sync's time (their budget is the
        account's 10 requests a minute); while they wait for it, the account lists are read in
        the background (prefetch.py), so the lists cost nothing after them. By name, most lists
        would come before the first export, and their time would add to the exports'.
        """
        order = {cls.name: index for index, cls in enumerate(stream_classes(self.config))}
        return sorted(
            super().load_streams(),
            key=lambda stream: (
                not isinstance(stream, IncrementalExportStream),
                order.get(stream.name, len(order)),
            ),
        )


if __name__ == "__main__":
    TapZendesk.cli()
