"""The base stream every Zendesk stream inherits.

It owns the API URL, authentication, headers, the page loop, retries and Retry-After, the error
policy (fatal / skip the stream) and writing the resume point to state after every page.
Streams only declare an endpoint, a record key, a schema and a paginator.
"""

from __future__ import annotations

import copy
import datetime as dt
import email.utils
import json
import random
import re
import threading
import time
import typing as t
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from urllib.parse import urlsplit

import msgspec
import requests
from singer_sdk import RESTStream, metrics
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.helpers._util import utc_now
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.singerlib import RecordMessage
from singer_sdk.streams.rest import HTTPRequest, PageContext

from tap_zendesk import __version__
from tap_zendesk.api.auth import authenticator_for, rejection_message
from tap_zendesk.api.errors import (
    AuthenticationFailed,
    ClientError,
    RateLimited,
    TransientError,
    UnexpectedResponse,
    ZendeskError,
    zendesk_error_text,
)
from tap_zendesk.api.oauth import OAuthTokens
from tap_zendesk.api.pagination import (
    CursorPages,
    OffsetPages,
    Paginator,
    Record,
    StuckExport,
)
from tap_zendesk.api.ratelimit import (
    ACCOUNT,
    EXPORT,
    SEARCH,
    RateGovernor,
    endpoint_limits,
    governor_for,
)
from tap_zendesk.legacy import LAYOUTS, LegacyLayout
from tap_zendesk.per_tap import per_tap
from tap_zendesk.report import RunReport, StreamTally, report_for
from tap_zendesk.schemas import SCHEMAS, ConfiguredSchema
from tap_zendesk.settings import MAX_PARALLEL_REQUESTS, Settings, tls_verify
from tap_zendesk.streams.prefetch import ListPrefetcher

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

# The bookmark key holding how the start was configured when the stream's state began.
START_SETTING = "start_setting"
# Zendesk's incremental exports serve at most this many items a page (per_page).
MAX_EXPORT_PAGE_SIZE = 1000
# Zendesk refuses an export start_time within the last minute (422).
EXPORT_SAFETY_SECONDS = 61
# 429s are Zendesk pacing us, not failing: keep waiting this long in total per request.
MAX_RATE_LIMIT_WAIT_SECONDS = 3600.0
FALLBACK_RETRY_AFTER_SECONDS = 60.0
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 60.0
# A 503 during maintenance says how long to stay away (Retry-After). Honoured up to this
# bound per attempt, so a bogus header cannot park the run for hours; each such attempt
# still counts against max_retries.
MAX_SERVER_RETRY_AFTER_SECONDS = 300.0
# Failures in a row of one export page after which it is asked for in smaller pages.
SHRINK_AFTER_FAILURES = 2

_Item = t.TypeVar("_Item")
_Result = t.TypeVar("_Result")

_TRANSIENT = (
    TransientError,
    ConnectionResetError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class ZendeskStream(RESTStream[dict[str, t.Any]]):
    """A Zendesk Support endpoint read page by page."""

    schema = ConfiguredSchema(SCHEMAS)
    # Records come straight from Zendesk's JSON, already of the schema's types: see
    # `_generate_record_messages` for what is still done per record.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    primary_keys: t.ClassVar[tuple[str, ...]] = ("id",)
    records_key: t.ClassVar[str]
    # How the endpoint pages: most lists by cursor; lists answered whole use OffsetPages,
    # which follows a `next_page` should one ever come.
    paging: t.ClassVar[type[CursorPages | OffsetPages]] = CursorPages
    # Said in the warning when Zendesk answers 403 for this stream.
    forbidden_hint: t.ClassVar[str] = "the user's role or the account's plan lacks access"
    # Statuses that skip this stream with a warning instead of failing the sync.
    skip_statuses: t.ClassVar[frozenset[int]] = frozenset({403})
    # Tickets, users and organizations are what every sync is for: a run that silently
    # skipped one would look successful while missing its core, so a 403 on one of them,
    # selected, ends the run instead.
    core: t.ClassVar[bool] = False
    allow_redirects = False
    _LOG_REQUEST_METRIC_URLS = False
    # Streams with no request of their own name the stream whose responses carry their
    # records (side-loads, attachments of comments); that stream emits them via `feed`.
    fed_by: t.ClassVar[str | None] = None

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        # Every HTTP attempt counts, per-ticket reads from worker threads included.
        self._request_counter = metrics.Counter(metrics.Metric.HTTP_REQUEST_COUNT)
        self._count_lock = threading.Lock()
        # Room for every worker of a per-ticket fan-out to keep its connection alive.
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=MAX_PARALLEL_REQUESTS)
        for scheme in ("https://", "http://"):
            self.requests_session.mount(scheme, adapter)
        # The SDK sends with Session.send, which finds proxies in the environment but not the
        # CA bundle; behind a TLS-inspecting proxy the bundle is what makes Zendesk trusted.
        self.requests_session.verify = tls_verify(self.settings.ca_bundle)
        if self.legacy is not None:
            self.primary_keys = self.legacy.key_properties

    @cached_property
    def settings(self) -> Settings:
        """The validated config."""
        return Settings.from_config(self.config)

    @cached_property
    def governor(self) -> RateGovernor:
        """The tap's one rate governor, shared by all its streams and workers."""
        governor = governor_for(
            self._tap,
            {
                ACCOUNT: self.settings.rate_limit_per_minute,
                EXPORT: self.settings.export_rate_limit_per_minute,
                SEARCH: None,
            },
            self.settings.rate_limit_window_seconds,
        )
        self.report.governor = governor
        return governor

    @cached_property
    def report(self) -> RunReport:
        """The run's progress lines and its summary of 429s, waits and skips."""
        report = report_for(self._tap, self._tap.logger)
        report.interval = self.settings.progress_interval
        return report

    @cached_property
    def tally(self) -> StreamTally:
        """This stream's counts for the progress lines and the summary."""
        return self.report.tally(self.name)

    def progress_start(self, context: Context | None) -> int | None:
        """Where a read starts in time, for the percent-done estimate; None: no estimate."""
        return None

    def progress_position(self, items: list[Record]) -> int | None:
        """How far in time a page reached, for the percent-done estimate."""
        return None

    @property
    def url_base(self) -> str:
        """`https://<account>/api/v2`."""
        return self.settings.api_url

    @cached_property
    def authenticator(self) -> requests.auth.AuthBase:
        """The credential of the configured auth_method."""
        if self.oauth is not None:
            return self.oauth.authenticator
        return authenticator_for(self.settings)

    @cached_property
    def oauth(self) -> OAuthTokens | None:
        """The run's OAuth tokens, shared by every stream, when auth_method is oauth."""
        if self.settings.auth_method not in ("oauth", "client_credentials"):
            return None
        return per_tap(self._tap, "oauth", lambda: OAuthTokens(self.settings, self._tap.logger))

    @cached_property
    def user_agent(self) -> str:
        """Names this tap and its version unless the user chose one."""
        return self.settings.user_agent or f"tap-zendesk-upsert/{__version__}"

    @property
    def http_headers(self) -> dict[str, str]:
        """Headers of every request."""
        return {"Accept": "application/json", "User-Agent": self.user_agent}

    @property
    def timeout(self) -> float:  # type: ignore[override]
        """Seconds to wait for a response before retrying."""
        return self.settings.request_timeout

    @property
    def emit_activate_version_messages(self) -> bool:
        """Only a stream read whole in every run may have the target replace its table: a fed
        stream's rows come with the increments of the stream that feeds it."""
        return self.fed_by is None and super().emit_activate_version_messages

    def configure_schema(self, schema: dict[str, t.Any]) -> dict[str, t.Any]:
        """This stream's schema for the config in use; `schema` is a private copy to edit.

        With legacy_schema it is the incumbent tap's layout; hooks of subclasses run after.
        """
        return self.legacy.schema(schema) if self.legacy is not None else schema

    @cached_property
    def legacy(self) -> LegacyLayout | None:
        """The incumbent tap's layout of this stream, when legacy_schema asks for it."""
        return LAYOUTS.get(self.name) if self.settings.legacy_schema else None

    @cached_property
    def _legacy_shape(self) -> t.Callable[[Record], Record]:
        """Gives records the legacy schema's shape (see tap_zendesk/legacy.py)."""
        assert self.legacy is not None
        return self.legacy.record_shaper(self.schema, self.name, self.logger)

    # Output -------------------------------------------------------------------------------

    @property
    def has_selected_descendents(self) -> bool:
        """Also true when a stream fed from this one is selected: this one must then run."""
        return super().has_selected_descendents or any(
            stream.selected for stream in self.fed_streams().values()
        )

    def resume_state(self, context: Context | None) -> dict[str, t.Any]:
        """Where this stream keeps its resume point.

        Its own state, except when it runs only to feed other streams: then the first
        selected fed stream's, so its own bookmark never moves past records it did not emit
        (selecting it later still reads them all).
        """
        if not self.selected:
            for stream in self.fed_streams().values():
                if stream.selected:
                    return stream.get_context_state(context)
        return self.get_context_state(context)

    def fed_streams(self) -> dict[str, ZendeskStream]:
        """The tap's streams whose records this stream's responses carry."""
        return {
            name: stream
            for name, stream in self._tap.streams.items()
            if isinstance(stream, ZendeskStream) and stream.fed_by == self.name
        }

    def feed(self, stream_name: str, records: t.Iterable[Record]) -> None:
        """Emit records of another stream that arrived in this stream's responses, when that
        stream exists and is selected, shaped as it shapes its own (its `post_process`); its
        SCHEMA goes out before its first record; with exclude_deleted, its deleted rows are
        left out as in its own reads."""
        stream = self._tap.streams.get(stream_name)
        if not isinstance(stream, ZendeskStream) or not stream.selected:
            return
        # A deleted row is left out whichever response carried it: an inactive user
        # side-loaded with a ticket is as deleted as one from the users export.
        exclude = self.settings.exclude_deleted
        for received in records:
            if exclude and stream.is_deleted(received):
                continue
            record = stream.post_process(received, None)
            if record is None:
                continue
            if not stream._schema_written:
                stream._write_schema_message()
                stream._schema_written = True
            stream._write_record_message(record)
            stream.tally.records += 1

    _schema_written = False

    def request_records(self, context: Context | None) -> t.Iterable[Record]:
        """Records of this stream's own endpoint; a fed stream has none (see `feed`)."""
        if self.fed_by is not None:
            return iter(())
        return self.read_pages(context)

    def _generate_record_messages(self, record: Record) -> t.Iterator[RecordMessage]:
        """The SDK's RECORD messages without its two walks over every value of every record.

        Profiled, those walks (type conformance and the deselected-property pass) were about
        two thirds of the tap's CPU. Zendesk's JSON already has the schema's types, so only the
        top-level keys that are deselected or not in the schema are dropped, with a set lookup.
        """
        if self.legacy is not None:
            record = self._legacy_shape(record)
        if self._nested_deselection:
            pop_deselected_record_properties(record, self.schema, self.mask)
        keep = self._emitted_properties
        if not record.keys() <= keep:
            unknown = record.keys() - self.schema["properties"].keys()
            if unknown and not self._warned_unknown:
                self._warned_unknown = True
                self.logger.warning(
                    "%s: dropping properties not in the schema: %s", self.name, sorted(unknown)
                )
            record = {key: value for key, value in record.items() if key in keep}
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self._stream_version,
                    time_extracted=utc_now(),
                )

    @cached_property
    def _emitted_properties(self) -> frozenset[str]:
        """Top-level properties that are in the schema and selected."""
        return frozenset(
            name for name in self.schema["properties"] if self.mask.get(("properties", name), True)
        )

    @cached_property
    def _nested_deselection(self) -> bool:
        """Whether the catalog deselects a nested property (then the SDK's walk is needed)."""
        return any(len(crumb) > 2 and not selected for crumb, selected in self.mask.items())

    _warned_unknown = False

    # Paging ------------------------------------------------------------------------------

    def new_paginator(self, context: Context | None) -> Paginator:
        """A fresh paginator of this endpoint's paging style."""
        return self.paging(self.records_key)

    def get_new_paginator(self) -> None:
        """Unused: `request_records` drives a `Paginator` that sees the parsed page."""
        return

    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        """GET the endpoint with the paginator's query."""
        return HTTPRequest(
            url=self.get_url(page.stream_context),
            method="GET",
            headers=self.http_headers,
            params=dict(page.next_page_token or {}),
        )

    def prepare_state(self, context: Context | None) -> None:
        """Adjust the saved state before reading resumes from it."""

    def is_deleted(self, record: Record) -> bool:
        """Whether a record is a deleted row, left out when exclude_deleted is set."""
        return False

    def receive_page(self, body: t.Any, items: list[Record], context: Context | None) -> None:
        """Look at a whole response before its records are emitted (its side-loads)."""

    def transform_page(self, items: list[Record], context: Context | None) -> t.Iterable[Record]:
        """The records a page yields; streams derived from another endpoint override this."""
        return items

    def parse_response(self, response: requests.Response) -> t.Iterable[Record]:
        """Records of one response (the page loop itself uses the paginator)."""
        return self.new_paginator(None).records(self.decode(response))

    def read_pages(self, context: Context | None) -> t.Iterable[Record]:
        """Read every page; save the resume point after each one is fully emitted.

        Code after a page's last `yield` runs only once the SDK has written that record (and
        its children), so the bookmark never passes a record that has not been emitted.
        The next page is fetched in the background while this one is emitted, so waiting for
        Zendesk (and for the rate budget) overlaps with our own work.
        """
        self.prepare_state(context)
        paginator = self.new_paginator(context)
        tally = self.tally
        tally.begin()
        tally.span_start = self.progress_start(context)
        prefetch = ThreadPoolExecutor(1, thread_name_prefix=f"{self.name}-next-page")
        try:
            with self.get_http_request_counter() as self._request_counter:
                self._request_counter.with_context(context)
                next_page = prefetch.submit(self.fetch_page, paginator, context)
                while not paginator.finished:
                    body = next_page.result()
                    try:
                        records = paginator.records(body)
                        self.receive_page(body, records, context)
                        paginator.advance(body)
                    except StuckExport as exc:
                        msg = f"{self.name}: {exc}; {self.stuck_advice(exc)}"
                        raise ZendeskError(msg) from exc
                    except UnexpectedResponse as exc:
                        msg = f"{self.name}: unexpected response from {self.path}: {exc}"
                        raise UnexpectedResponse(msg) from exc
                    if not paginator.finished:
                        paginator.regrow()
                        next_page = prefetch.submit(self.fetch_page, paginator, context)
                    page = self.transform_page(records, context)
                    if self.settings.exclude_deleted:
                        page = (record for record in page if not self.is_deleted(record))
                    for record in page:
                        tally.records += 1
                        yield record
                    self.save_bookmark(context, paginator)
                    tally.pages += 1
                    tally.position = self.progress_position(records) or tally.position
        except ClientError as exc:
            if exc.status in {400, 422} and "cursor" in paginator.params():
                msg = (
                    f"{exc} — Zendesk rejected the saved cursor: remove "
                    f"bookmarks.{self.name}.cursor from the state to restart {self.name} from "
                    "its replication_key_value"
                )
                raise ClientError(msg, exc.status) from exc
            self.skip_or_raise(exc)
        finally:
            tally.end()
            for name in self.fed_streams():
                if (fed := self.report.streams.get(name)) is not None:
                    fed.end()
            prefetch.shutdown(wait=False, cancel_futures=True)

    def stuck_advice(self, exc: StuckExport) -> str:
        """What the user can do about an export stuck in one crowded second."""
        if exc.page_size < MAX_EXPORT_PAGE_SIZE:
            return (
                f"raise page_size (now {exc.page_size}, at most {MAX_EXPORT_PAGE_SIZE}) so one "
                "page holds that whole second, then run again from the last STATE, which "
                "resumes at that second"
            )
        return (
            f"Zendesk serves at most {MAX_EXPORT_PAGE_SIZE} items a page and this export has "
            "no other paging, so no setting gets past that second: report the account and "
            "the second to Zendesk support; a rerun from the last STATE resumes at that second"
        )

    def skip_or_raise(self, exc: ClientError) -> None:
        """Skip this stream, with a warning and a line in the summary, if its status is one
        of `skip_statuses` (the plan or role lacks it) and it is not a selected core stream;
        else let the error end the run."""
        if exc.status not in self.skip_statuses:
            raise exc
        if self.core and self.selected:
            msg = (
                f"{self.name}: {exc}; {self.name} is never skipped when selected: give the "
                f"tap a Zendesk admin's credential, or deselect {self.name}"
            )
            raise ZendeskError(msg) from exc
        self.logger.warning("Skipping stream '%s': %s", self.name, exc)
        self.report.stream_skipped(self.name, str(exc))

    def read_all(self, path: str, context: Context, paginator: Paginator) -> list[Record] | None:
        """Every record of one sub-resource (e.g. one ticket's comments), or None if Zendesk
        answers 403, 404 or 422 for it: that resource is skipped, with a warning, not the sync.
        """
        try:
            return self.read_whole(path, context, paginator)
        except ClientError as exc:
            if exc.status not in {403, 404, 422}:
                raise
            self.logger.warning("%s: skipped %s: %s", self.name, path.format(**context), exc)
            self.report.read_skipped(self.name)
            return None

    def read_whole(self, path: str, context: Context, paginator: Paginator) -> list[Record]:
        """Every page of another endpoint than the stream's (`path` with `{placeholders}`
        from `context`), read to the end."""
        records: list[Record] = []
        try:
            while not paginator.finished:
                body = self.fetch(paginator.params(), context, path=path)
                records += paginator.records(body)
                paginator.advance(body)
        except UnexpectedResponse as exc:
            msg = f"{self.name}: unexpected response from {path.format(**context)}: {exc}"
            raise UnexpectedResponse(msg) from exc
        return records

    def save_bookmark(self, context: Context | None, paginator: Paginator) -> None:
        """Store the paginator's resume point and emit STATE."""
        bookmark = paginator.bookmark()
        if not bookmark:
            return
        self.resume_state(context).update(bookmark)
        self.state_manager.is_flushed = False
        self._write_state_message()

    def fan_out(
        self, read: t.Callable[[_Item], _Result], items: t.Iterable[_Item]
    ) -> t.Iterator[tuple[_Item, _Result]]:
        """`read` each item on a bounded pool of workers; results come back in item order.

        Each read goes through `fetch`, so retries and 429 waits apply per request. If one
        read fails for good, the reads not yet started are cancelled.
        """
        pool = ThreadPoolExecutor(self.settings.parallel_requests, thread_name_prefix=self.name)
        try:
            futures = [(item, pool.submit(read, item)) for item in items]
            for item, future in futures:
                yield item, future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def current_user(self) -> dict[str, t.Any]:
        """The Zendesk user the credential authenticates as (`GET /users/me`)."""
        body = self.fetch({}, None, path="/users/me.json")
        user = body.get("user") if isinstance(body, dict) else None
        return user if isinstance(user, dict) else {}

    # Requests, retries and the error policy ------------------------------------------------

    @cached_property
    def list_prefetcher(self) -> ListPrefetcher:
        """The run's reader of account lists while exports wait (see prefetch.py)."""
        return per_tap(self._tap, "list_prefetcher", lambda: ListPrefetcher(self._lists()))

    def _lists(self) -> list[ZendeskStream]:
        """Selected streams that read one list endpoint whole, page after page (asked for
        per page: worked out once per run)."""
        return per_tap(self._tap, "list_streams", self._find_lists)

    def _find_lists(self) -> list[ZendeskStream]:
        return [
            stream
            for stream in self._tap.streams.values()
            if isinstance(stream, ZendeskStream)
            and type(stream).read_pages is ZendeskStream.read_pages
            and stream.selected
            and stream.fed_by is None
            and type(stream).request_records is ZendeskStream.request_records
            and type(stream).new_paginator is ZendeskStream.new_paginator
        ]

    _prefetched: list[tuple[dict[str, t.Any], t.Any]] | None = None

    def list_page(self, params: dict[str, t.Any], *, once: bool = False) -> t.Any:
        """One page of this list stream's endpoint. Where several selected streams read the
        same endpoint (the ticket forms and their two condition streams), it is asked for
        once per run and each stream gets its own copy of the answer."""
        readers = [stream for stream in self._lists() if stream.path == self.path]
        if len(readers) < 2:
            return self.fetch(params, None, once=once)
        shared = per_tap(self._tap, "shared_list_pages", dict)
        lock = per_tap(self._tap, "shared_list_pages_lock", threading.Lock)
        key = (self.path, tuple(sorted(params.items())))
        with lock:
            body = shared.get(key)
        if body is None:
            body = self.fetch(params, None, once=once)
            with lock:
                body = shared.setdefault(key, body)
        return copy.deepcopy(body)

    def fetch_page(self, paginator: Paginator, context: Context | None) -> t.Any:
        """The paginator's next page; after a second failure in a row of the same page, it is
        asked for again in smaller pages (heavy pages time out where smaller ones pass).

        A list stream first takes the pages read for it while the exports waited."""
        if self._prefetched is None:
            self._prefetched = self.list_prefetcher.claim(self.name)
        if self._prefetched:
            params, body = self._prefetched.pop(0)
            if params == paginator.params():
                return body
            self._prefetched.clear()
        if self in self._lists():
            return self.list_page(paginator.params())

        def smaller() -> dict[str, t.Any] | None:
            if not paginator.shrink():
                return None
            self.logger.warning(
                "%s: asking for smaller pages (%s) while Zendesk fails to serve this one",
                self.name,
                paginator.params().get("per_page"),
            )
            return paginator.params()

        return self.fetch(paginator.params(), context, shrink=smaller)

    def fetch(
        self,
        params: dict[str, t.Any],
        context: Context | None,
        *,
        path: str | None = None,
        shrink: t.Callable[[], dict[str, t.Any] | None] | None = None,
        once: bool = False,
    ) -> t.Any:
        """One page's parsed JSON, retried through 429s and transient failures.

        `path` (with `{placeholders}` from `context`) reads another endpoint than the stream's.
        `shrink` gives the query of a smaller page when the same page keeps failing.
        `once`: no retry and no wait for a 429 (a read ahead of time that may as well fail).
        """
        request = self.get_http_request(
            page=PageContext(stream_context=context, next_page_token=params)
        )
        if path is not None:
            request.url = self.url_base + path.format(**(context or {}))

        def prepare() -> requests.PreparedRequest:
            return self.build_prepared_request(
                method=request.method,
                url=request.url,
                params=request.encode_params(),
                headers=request.headers,
            )

        prepared = prepare()
        url_path = urlsplit(request.url).path
        failures = 0
        failing_since: float | None = None
        rate_limited_for = 0.0
        renewed = False
        while True:
            waited = self.governor.acquire(url_path)
            with self._count_lock:
                self._request_counter.increment()
                self.tally.requests += 1
                self.tally.waited += waited
            try:
                body = self.decode(self._request(prepared, context))
                self.tally.outage = None
                return body
            except AuthenticationFailed as exc:
                # An expired OAuth access token is renewed once, then the request retried.
                sent = prepared.headers.get("Authorization", "").removeprefix("Bearer ")
                if renewed or not exc.token_rejected or self.oauth is None:
                    raise
                if not self.oauth.renew(sent, self.timeout):
                    raise
                renewed = True
                prepared = prepare()
            except RateLimited as exc:
                self.governor.rate_limited(url_path, exc.wait, exc.headers)
                if once:
                    raise
                with self._count_lock:
                    self.tally.throttled += 1
                    self.tally.waited += exc.wait
                rate_limited_for += exc.wait
                if rate_limited_for > MAX_RATE_LIMIT_WAIT_SECONDS:
                    msg = (
                        f"{self.name}: Zendesk kept answering 429 Too Many Requests on "
                        f"{self.path} for {rate_limited_for / 60:.0f} minutes; "
                        "try again later or lower the load on the account"
                    )
                    raise ZendeskError(msg) from exc
                self.logger.warning(
                    "%s: rate limited on %s, waiting %.1fs as Zendesk asked",
                    self.name,
                    self.path,
                    exc.wait,
                )
            except requests.exceptions.SSLError as exc:
                # Not transient: an untrusted certificate stays untrusted on every retry.
                msg = (
                    f"{self.name}: the TLS certificate of {urlsplit(request.url).netloc} is not "
                    f"trusted ({_ssl_reason(exc)}); behind a TLS-inspecting proxy, set ca_bundle "
                    "(or REQUESTS_CA_BUNDLE) to the file of its CA certificate"
                )
                raise ZendeskError(msg) from exc
            except _TRANSIENT as exc:
                if once:
                    raise
                failures += 1
                failing_since = failing_since or time.monotonic()
                # Heavy pages time out or fail with a 5xx; a Retry-After says when to come
                # back instead, and a broken body is no sign of weight.
                heavy = not isinstance(exc, TransientError) or (exc.outage and exc.wait is None)
                if shrink is not None and failures >= SHRINK_AFTER_FAILURES and heavy:
                    smaller = shrink()
                    if smaller is not None:
                        # A smaller page is a new request with retries of its own; the
                        # outage, if this is one, goes on.
                        failures = 0
                        request.params = smaller
                        prepared = prepare()
                failing_for = time.monotonic() - failing_since
                delay = self._retry_delay(exc, max(failures, 1), failing_for)
                self.tally.outage = (failing_since, _describe(exc))
                time.sleep(delay)

    def _retry_delay(self, exc: BaseException, failures: int, failing_for: float) -> float:
        """Seconds to wait before the next attempt after a transient failure, or the error
        that ends the run.

        A failing server (5xx, 409, no connection, no answer) is waited out until it has
        failed for outage_limit_seconds, following its Retry-After: maintenance windows pass.
        A broken body is retried max_retries times. Either way at least max_retries retries.
        """
        reason = _describe(exc)
        outage = exc.outage if isinstance(exc, TransientError) else True
        limit = self.settings.outage_limit_seconds
        if failures > self.settings.max_retries and (not outage or failing_for >= limit):
            if outage:
                msg = (
                    f"{self.name}: Zendesk kept failing on {self.path} for "
                    f"{failing_for / 60:.1f} minutes ({reason}), past outage_limit_seconds "
                    f"({limit:g}); run again later: the run resumes from its last STATE"
                )
            else:
                msg = (
                    f"{self.name}: {self.path} still failing after {failures} attempts "
                    f"({reason}); check Zendesk's status or raise max_retries"
                )
            raise ZendeskError(msg) from exc
        asked = exc.wait if isinstance(exc, TransientError) else None
        if asked is not None:
            delay = min(asked, MAX_SERVER_RETRY_AFTER_SECONDS)
        else:
            delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (failures - 1))
            delay *= random.uniform(0.5, 1.0)  # jitter: spread retries of parallel runs
        if outage and failures > self.settings.max_retries:
            delay = max(0.0, min(delay, limit - failing_for))
        self.logger.warning(
            "%s: %s (attempt %d; failing for %.0fs, waiting up to %gs), retrying in %.1fs%s",
            self.name,
            reason,
            failures,
            failing_for,
            limit if outage else 0,
            delay,
            " as Zendesk asked (Retry-After)" if asked is not None else "",
        )
        return delay

    def decode(self, response: requests.Response) -> t.Any:
        """Parse a 2xx body once; a cut or non-JSON body is transient and retried.

        msgspec refuses valid JSON holding a lone UTF-16 surrogate escape (`"\\ud83d"`, half of
        an emoji some client cut) as if the body were cut; such a page is read by the standard
        parser instead, its lone surrogates becoming U+FFFD so that every target can encode it.
        """
        try:
            return msgspec.json.decode(response.content)
        except msgspec.DecodeError as exc:
            try:
                body = json.loads(response.content)
            except ValueError:
                kind = response.headers.get("Content-Type", "unknown content type")
                msg = f"unreadable response body ({len(response.content)} bytes of {kind})"
                raise TransientError(msg) from exc
            replaced = [0]
            body = _without_lone_surrogates(body, replaced)
            self.logger.warning(
                "%s: %s held %d text value(s) with a lone UTF-16 surrogate (half a character); "
                "each was replaced by U+FFFD",
                self.name,
                urlsplit(response.url).path,
                replaced[0],
            )
            return body

    def validate_response(self, response: requests.Response) -> None:
        """Map Zendesk's statuses to: wait, retry, skip this stream, or stop with a reason."""
        self.governor.observe(urlsplit(response.url).path, response.headers)
        status = response.status_code
        if status < 300:
            return
        where = f"{self.settings.base_url}{urlsplit(response.url).path}"
        if status == 429:
            raise RateLimited(retry_after(response), self.path, response.headers)
        # 409 is Zendesk's database conflict ("DatabaseConflict"): a collision with a
        # concurrent write that a later identical request gets past, so it is retried like a
        # 5xx (https://developer.zendesk.com/api-reference/introduction/requests/).
        if status >= 500 or status == 409:
            msg = f"{status} {response.reason} from Zendesk"
            raise TransientError(msg, server_retry_after(response), outage=True)
        if 300 <= status < 400:
            target = urlsplit(response.headers.get("Location", ""))
            msg = (
                f"{self.name}: Zendesk redirected {where} to {target.scheme}://{target.netloc}; "
                "set url to the address your Zendesk account is served from"
            )
            raise ZendeskError(msg)
        text = zendesk_error_text(response)
        if status == 401:
            msg = rejection_message(self.settings, text)
            raise AuthenticationFailed(msg, token_rejected=_token_rejected(response))
        path = urlsplit(response.url).path.removeprefix(urlsplit(self.url_base).path)
        if status == 403:
            msg = f"Zendesk answered 403 Forbidden for {path} ({text}): {self.forbidden_hint}"
            raise ClientError(msg, status)
        if status == 404 and "json" not in response.headers.get("Content-Type", ""):
            msg = (
                f"nothing answers at {where} (404 Not Found): check that url is your Zendesk "
                "address, e.g. https://acme.zendesk.com"
            )
            raise ZendeskError(msg)
        msg = f"{self.name}: Zendesk answered {status} {response.reason} for {path}: {text}"
        raise ClientError(msg, status)


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


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_lone_surrogates(value: t.Any, replaced: list[int]) -> t.Any:
    """`value` with every text's lone surrogates replaced by U+FFFD (counted in `replaced`);
    the standard parser already joined the surrogate pairs."""
    if isinstance(value, str):
        if _LONE_SURROGATE.search(value) is None:
            return value
        replaced[0] += 1
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {
            _without_lone_surrogates(key, replaced): _without_lone_surrogates(item, replaced)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_without_lone_surrogates(item, replaced) for item in value]
    return value


def _ssl_reason(exc: requests.exceptions.SSLError) -> str:
    """The certificate problem OpenSSL names, e.g. `certificate verify failed: self-signed
    certificate in certificate chain`, without the URL and pool details around it."""
    found = re.search(r"\[SSL: [A-Z_]+\] ([^(')]+)", str(exc))
    return found.group(1).strip() if found else "certificate verification failed"


def _token_rejected(response: requests.Response) -> bool:
    """Whether a 401 says the OAuth access token is no longer good (expired or revoked)."""
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("error") == "invalid_token"


def _describe(exc: BaseException) -> str:
    """A short, secret-free reason for a transient failure."""
    if isinstance(exc, requests.exceptions.Timeout):
        return "no response within request_timeout"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the connection broke in the middle of the response"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "the connection failed or was closed"
    if isinstance(exc, ConnectionResetError):
        return "the connection was reset"
    return str(exc) or type(exc).__name__
