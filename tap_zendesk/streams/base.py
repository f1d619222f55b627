"""ZendeskStream, the base of every stream: the one page loop and the one record path.

A stream declares an endpoint, a record key, a schema and a paginator; this reads its pages
through the run's request engine (api/requester.py), emits their records, and saves the resume
point after every page. Every record, whichever way it arrives (its own page, fed from
another stream's response, side-loaded, searched), passes `kept` (exclude_deleted, tallies)
and `record_messages` (deselection, legacy shape, stream maps).
"""

from __future__ import annotations

import contextlib
import dataclasses
import typing as t
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property

from singer_sdk import metrics
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.singerlib import RecordMessage
from typing_extensions import override

from tap_zendesk.api.errors import ClientError, UnexpectedResponse, ZendeskError
from tap_zendesk.api.pagination import CursorPages, OffsetPages, Paginator, Record, StuckExport
from tap_zendesk.api.requester import Asker
from tap_zendesk.legacy import LAYOUTS, LegacyLayout
from tap_zendesk.schemas import SCHEMAS, ConfiguredSchema
from tap_zendesk.sdk_private import SdkStream, drop_deselected, utc_now

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_zendesk.api.requester import Requester
    from tap_zendesk.report import RunReport, StreamTally
    from tap_zendesk.settings import Settings
    from tap_zendesk.streams.lists import ListReads

# Zendesk's incremental exports serve at most this many items a page (per_page).
MAX_EXPORT_PAGE_SIZE = 1000

_Item = t.TypeVar("_Item")
_Result = t.TypeVar("_Result")


class Run(t.Protocol):
    """What streams use of the run's shared objects, which the tap owns (TapZendesk)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def report(self) -> RunReport: ...
    @property
    def requester(self) -> Requester: ...
    @property
    def list_reads(self) -> ListReads: ...
    @property
    def field_definitions(self) -> dict[str, list[Record] | None]: ...
    @property
    def exports_read(self) -> set[str]: ...
    @property
    def syncing_all(self) -> bool: ...


@dataclasses.dataclass
class Page:
    """One page read: the query that asked for it, its JSON, and its records."""

    params: dict[str, t.Any]
    body: t.Any
    records: list[Record]


class ZendeskStream(SdkStream):
    """A Zendesk Support endpoint read page by page."""

    schema = ConfiguredSchema(SCHEMAS)
    # Records come straight from Zendesk's JSON, already of the schema's types: see
    # `record_messages` for what is still done per record.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    primary_keys: t.ClassVar[tuple[str, ...]] = ("id",)
    # The endpoint, below `/api/v2`, and the key of its records in a page.
    path: t.ClassVar[str]
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
    # Streams with no request of their own name the stream whose responses carry their
    # records (side-loads, attachments of comments); that stream emits them via `feed`.
    fed_by: t.ClassVar[str | None] = None

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        if self.legacy is not None:
            self.primary_keys = self.legacy.key_properties

    # The run's shared objects, owned by the tap --------------------------------------------

    @property
    def run(self) -> Run:
        """The run's shared objects: the tap's."""
        return t.cast("Run", self.tap)

    @property
    def settings(self) -> Settings:
        """The run's validated config."""
        return self.run.settings

    @property
    def report(self) -> RunReport:
        """The run's progress lines and its summary of 429s, waits and skips."""
        return self.run.report

    @cached_property
    def tally(self) -> StreamTally:
        """This stream's counts for the progress lines and the summary."""
        return self.report.tally(self.name)

    @cached_property
    def asker(self) -> Asker:
        """This stream as the request engine names and charges it."""
        return Asker(self.name, self.tally, self.forbidden_hint, self._count_request)

    _request_counter: metrics.Counter | None = None

    def _count_request(self) -> None:
        if (counter := self._request_counter) is not None:
            counter.increment()

    @property
    @override
    def emit_activate_version_messages(self) -> bool:
        """Only a stream read whole in every run may have the target replace its table: a fed
        stream's rows come with the increments of the stream that feeds it."""
        return self.fed_by is None and super().emit_activate_version_messages

    # Schema ---------------------------------------------------------------------------------

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
        """Gives records the legacy schema's shape (see tap_zendesk/legacy)."""
        assert self.legacy is not None
        return self.legacy.record_shaper(self.schema, self.name, self.logger)

    # The record path ------------------------------------------------------------------------

    def kept(self, records: t.Iterable[Record]) -> t.Iterator[Record]:
        """The records this stream emits, counted: with exclude_deleted, not its deleted ones."""
        exclude = self.settings.exclude_deleted
        tally = self.tally
        for record in records:
            if exclude and self.is_deleted(record):
                continue
            tally.records += 1
            yield record

    def is_deleted(self, record: Record) -> bool:
        """Whether a record is a deleted row, left out when exclude_deleted is set."""
        return False

    def feed(self, stream_name: str, records: t.Iterable[Record]) -> None:
        """Emit records of another stream that arrived in this stream's responses, when that
        stream exists and is selected, through its own record path; its SCHEMA goes out
        before its first record."""
        stream = self.tap.streams.get(stream_name)
        if not isinstance(stream, ZendeskStream) or not stream.selected:
            return
        for received in stream.kept(records):
            record = stream.post_process(received, None)
            if record is not None:
                stream.write_schema_once()
                stream.write_record(record)

    @override
    def record_messages(self, record: Record) -> t.Iterator[RecordMessage]:
        """The SDK's RECORD messages without its two walks over every value of every record.

        Profiled, those walks (type conformance and the deselected-property pass) were about
        two thirds of the tap's CPU. Zendesk's JSON already has the schema's types, so only the
        top-level keys that are deselected or not in the schema are dropped, with a set lookup.
        """
        if self.legacy is not None:
            record = self._legacy_shape(record)
        if self._nested_deselection:
            drop_deselected(record, self.schema, self.mask)
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
                    version=self.stream_version,
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

    # Streams fed by this one -----------------------------------------------------------------

    @property
    @override
    def has_selected_descendents(self) -> bool:
        """Also true when a stream fed from this one is selected: this one must then run."""
        return super().has_selected_descendents or any(
            stream.selected for stream in self.fed_streams().values()
        )

    @property
    def reads_a_list(self) -> bool:
        """Whether this stream, selected, reads one list endpoint whole with the base page
        loop (such lists are read ahead and shared: see lists.py)."""
        cls = type(self)
        return (
            self.selected
            and self.fed_by is None
            and cls.get_records is ZendeskStream.get_records
            and cls.read_pages is ZendeskStream.read_pages
            and cls.new_paginator is ZendeskStream.new_paginator
        )

    def fed_streams(self) -> dict[str, ZendeskStream]:
        """The tap's streams whose records this stream's responses carry."""
        return {
            name: stream
            for name, stream in self.tap.streams.items()
            if isinstance(stream, ZendeskStream) and stream.fed_by == self.name
        }

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

    # The page loop ---------------------------------------------------------------------------

    @override
    def get_records(self, context: Context | None) -> t.Iterable[Record]:
        """Records of this stream's own endpoint; a fed stream has none (see `feed`)."""
        if self.fed_by is not None:
            return iter(())
        return self.read_pages(context)

    def read_pages(self, context: Context | None) -> t.Iterator[Record]:
        """Read every page; save the resume point after each one is fully emitted.

        Code after a page's last `yield` runs only once the SDK has written that record (and
        its children), so the bookmark never passes a record that has not been emitted.
        """
        self.prepare_state(context)
        paginator = self.new_paginator(context)
        tally = self.tally
        tally.span_start = self.progress_start(context)
        try:
            with self.reading(context):
                fetch = self.fetcher(paginator, context)
                for page in self.walk(paginator, fetch, self.path, ahead=True):
                    self.receive_page(page.body, page.records, context)
                    yield from self.kept(self.transform_page(page.records, context))
                    self.save_bookmark(context, paginator)
                    tally.pages += 1
                    tally.position = self.progress_position(page.records) or tally.position
        except ClientError as exc:
            if exc.status in {400, 422} and "cursor" in paginator.params():
                msg = (
                    f"{exc} — Zendesk rejected the saved cursor: remove "
                    f"bookmarks.{self.name}.cursor from the state to restart {self.name} from "
                    "its replication_key_value"
                )
                raise ClientError(msg, exc.status, exc.reason) from exc
            self.skip_or_raise(exc)

    @contextlib.contextmanager
    def reading(self, context: Context | None) -> t.Iterator[None]:
        """While this stream reads: its progress lines are due, and its requests counted in
        the SDK's http_request_count METRIC."""
        self.tally.begin()
        try:
            with metrics.http_request_counter(self.name, endpoint=self.path) as counter:
                counter.with_context(context)
                self._request_counter = counter
                yield
        finally:
            self._request_counter = None
            self.tally.end()
            for name in self.fed_streams():
                if (fed := self.report.streams.get(name)) is not None:
                    fed.end()

    def walk(
        self,
        paginator: Paginator,
        fetch: t.Callable[[Paginator], t.Any],
        where: str,
        *,
        ahead: bool = False,
    ) -> t.Iterator[Page]:
        """Every page `paginator` asks for, read by `fetch`, in order; with `ahead`, the next
        page is read in the background while this one is emitted, so waiting for Zendesk (and
        for the rate budget) overlaps with our own work."""
        pool = ThreadPoolExecutor(1, thread_name_prefix=f"{self.name}-next-page") if ahead else None
        try:
            params = paginator.params()
            next_body = pool.submit(fetch, paginator) if pool else None
            while not paginator.finished:
                body = next_body.result() if next_body else fetch(paginator)
                try:
                    page = Page(params, body, paginator.records(body))
                    paginator.advance(body)
                except StuckExport as exc:
                    raise ZendeskError(f"{self.name}: {exc}; {self.stuck_advice(exc)}") from exc
                except UnexpectedResponse as exc:
                    msg = f"{self.name}: unexpected response from {where}: {exc}"
                    raise UnexpectedResponse(msg) from exc
                if not paginator.finished:
                    paginator.regrow()
                    params = paginator.params()
                    next_body = pool.submit(fetch, paginator) if pool else None
                yield page
        finally:
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)

    def fetcher(
        self, paginator: Paginator, context: Context | None
    ) -> t.Callable[[Paginator], t.Any]:
        """How this stream's own pages are read: a list stream's through the run's list reads
        (read ahead, shared); any other asks for smaller pages after a second failure in a
        row of the same page (heavy pages time out where smaller ones pass)."""
        lists = self.run.list_reads
        if self in lists.streams:
            return lambda paginator: lists.page(self, paginator)

        def smaller() -> dict[str, t.Any] | None:
            if not paginator.shrink():
                return None
            self.logger.warning(
                "%s: asking for smaller pages (%s) while Zendesk fails to serve this one",
                self.name,
                paginator.params().get("per_page"),
            )
            return paginator.params()

        return lambda paginator: self.get(self.path, paginator.params(), context, shrink=smaller)

    def save_bookmark(self, context: Context | None, paginator: Paginator) -> None:
        """Store the paginator's resume point and emit STATE."""
        bookmark = paginator.bookmark()
        if not bookmark:
            return
        self.resume_state(context).update(bookmark)
        self.write_state()

    # Hooks of the page loop, for streams to override -----------------------------------------

    def new_paginator(self, context: Context | None) -> Paginator:
        """A fresh paginator of this endpoint's paging style."""
        return self.paging(self.records_key)

    def prepare_state(self, context: Context | None) -> None:
        """Adjust the saved state before reading resumes from it."""

    def receive_page(self, body: t.Any, items: list[Record], context: Context | None) -> None:
        """Look at a whole response before its records are emitted (its side-loads)."""

    def transform_page(self, items: list[Record], context: Context | None) -> t.Iterable[Record]:
        """The records a page yields; streams derived from another endpoint override this."""
        return items

    def progress_start(self, context: Context | None) -> int | None:
        """Where a read starts in time, for the percent-done estimate; None: no estimate."""
        return None

    def progress_position(self, items: list[Record]) -> int | None:
        """How far in time a page reached, for the percent-done estimate."""
        return None

    # Other reads -----------------------------------------------------------------------------

    def get(
        self,
        path: str,
        params: t.Mapping[str, t.Any],
        context: Context | None = None,
        *,
        shrink: t.Callable[[], dict[str, t.Any] | None] | None = None,
        once: bool = False,
    ) -> t.Any:
        """One page of `path` (its `{placeholders}` from `context`) through the run's request
        engine, charged to this stream (see Requester.get for `shrink` and `once`)."""
        where = path.format(**(context or {}))
        return self.run.requester.get(where, params, self.asker, shrink=shrink, once=once)

    def read_whole(self, path: str, context: Context, paginator: Paginator) -> list[Record]:
        """Every page of another endpoint than the stream's (`path` with `{placeholders}`
        from `context`), read to the end."""
        pages = self.walk(
            paginator,
            lambda paginator: self.get(path, paginator.params(), context),
            path.format(**context),
        )
        return [record for page in pages for record in page.records]

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

    def fan_out(
        self, read: t.Callable[[_Item], _Result], items: t.Iterable[_Item]
    ) -> t.Iterator[tuple[_Item, _Result]]:
        """`read` each item on a bounded pool of workers; results come back in item order.

        Each read goes through the request engine, so retries and 429 waits apply per request.
        If one read fails for good, the reads not yet started are cancelled.
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
        body = self.get("/users/me.json", {})
        user = body.get("user") if isinstance(body, dict) else None
        return user if isinstance(user, dict) else {}

    # When Zendesk refuses --------------------------------------------------------------------

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
