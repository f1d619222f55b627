"""ZendeskStream, the base of every stream: the one page loop and the reads around it.

A stream declares an endpoint, a record key, a schema and a paginator; this reads its pages
through the run's request engine (api/requester.py), hands their records to the record path
(records.py), and saves the resume point after every page.

Not a singer-sdk RESTStream: the SDK's request hooks (`get_url_params`, `get_new_paginator`,
`parse_response`, `validate_response`, `backoff_*`) would never be called. Their jobs are
`new_paginator` (a Paginator of api/pagination.py) and the request engine.
"""

from __future__ import annotations

import contextlib
import dataclasses
import typing as t
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property

from singer_sdk import metrics
from singer_sdk.helpers.conform import TypeConformanceLevel
from typing_extensions import override

from tap_zendesk.api.errors import ClientError, UnexpectedResponse, ZendeskError
from tap_zendesk.api.pagination import CursorPages, OffsetPages, Paginator, Record, StuckExport
from tap_zendesk.api.requester import Asker
from tap_zendesk.schemas import SCHEMAS, ConfiguredSchema
from tap_zendesk.streams.records import RecordStream

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context


# Zendesk's incremental exports serve at most this many items a page (per_page).
MAX_EXPORT_PAGE_SIZE = 1000

_Item = t.TypeVar("_Item")
_Result = t.TypeVar("_Result")


@dataclasses.dataclass
class Page:
    """One page read: the query that asked for it, its JSON, and its records."""

    params: dict[str, t.Any]
    body: t.Any
    records: list[Record]


class ZendeskStream(RecordStream):
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

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        if self.legacy is not None:
            self.primary_keys = self.legacy.key_properties

    @cached_property
    def asker(self) -> Asker:
        """This stream as the request engine names and charges it."""
        return Asker(
            self.name, self.tally, self.forbidden_hint, self._count_request, self._time_response
        )

    _request_counter: metrics.Counter | None = None

    def _count_request(self) -> None:
        if (counter := self._request_counter) is not None:
            counter.increment()

    def _time_response(self, response: requests.Response) -> None:
        """The SDK's http_request_duration METRIC of one response."""
        point = metrics.Point(
            "timer",
            metric=metrics.Metric.HTTP_REQUEST_DURATION,
            value=response.elapsed.total_seconds(),
            tags={
                metrics.Tag.STREAM: self.name,
                metrics.Tag.ENDPOINT: self.path,
                metrics.Tag.HTTP_STATUS_CODE: response.status_code,
                metrics.Tag.STATUS: metrics.Status.SUCCEEDED
                if response.status_code < 400
                else metrics.Status.FAILED,
            },
        )
        metrics.log(self.metrics_logger, point)

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
