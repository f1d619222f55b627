"""Zendesk searches: one `search_<name>` stream per configured query, and `search_counts`.

Each query of `search_queries` and `premade_queries` becomes a stream whose records are the
query's results as Zendesk returns them, with their `result_type`. A query naming one type
(`type:ticket`) has that type's schema and the key `id`; any other query (no `type:`, or
several) reads tickets, users and organizations, has their merged schema and the key
(`result_type`, `id`), because ids of different types may collide.

How the results are read:

- `GET /search/export.json`, cursor paged, with no limit on the number of results. It takes
  one type per call (`filter[type]`) and refuses `type:` in the query text, so the `type:`
  terms are taken out of the query and a query of several types is exported once per type.
  Its results come ordered by creation, so `order_by:` and `sort:` terms, which only order,
  are left out too.
- An export cursor expires after an hour. If Zendesk rejects one, that type is read again
  from its first page, once, skipping the results this run already emitted, with a warning.
- Where the export is not offered (Zendesk answers 403 or 404 for it), `GET /search.json`
  reads the query instead. It pages by offset and serves at most 1000 results per query; past
  that the stream stops with one warning saying how many of how many were emitted and how to
  get them all (split the query into narrower ones).

Search streams are FULL_TABLE: a search is a snapshot of what matches now (a ticket that was
open and is now solved simply leaves `status:open`), which no bookmark can follow, so every
run reads each query whole. `search_counts` adds one row per query per run, keyed by
(`query_name`, `counted_at`): the history of how many results each query had.

A query Zendesk rejects (400/422) ends the run with one line naming the stream, the query
and Zendesk's reason.
"""

from __future__ import annotations

import datetime as dt
import functools
import typing as t
from array import array

from typing_extensions import override

from tap_zendesk.api.errors import ClientError, UnexpectedResponse, ZendeskError
from tap_zendesk.api.pagination import CursorPages, OffsetPages, Paginator, Record
from tap_zendesk.config.settings import SearchQuery, search_queries
from tap_zendesk.schemas import ConfiguredSchema
from tap_zendesk.streams.base import ZendeskStream
from tap_zendesk.streams.search_plan import SEARCH_SCHEMAS, SearchPlan

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

EXPORT_PATH = "/search/export.json"
LIST_PATH = "/search.json"
COUNT_PATH = "/search/count.json"
LIST_PAGE_SIZE = 100
# Zendesk's Export Search Results reference advises page[size] 100: its maximum, 1000, can time
# out when many archived tickets match
# (https://developer.zendesk.com/api-reference/ticketing/ticket-management/search/#export-search-results).
# A smaller page_size still lowers it.
EXPORT_PAGE_SIZE = 100
LIST_RESULT_LIMIT = 1000


def configured_searches(config: t.Mapping[str, t.Any]) -> tuple[SearchQuery, ...]:
    """The searches of a raw config; none when they are invalid (validation reports those)."""
    try:
        return search_queries(config)
    except ValueError:
        return ()


def search_stream_classes(config: t.Mapping[str, t.Any]) -> list[type[ZendeskStream]]:
    """One stream per configured search, and search_counts when there is at least one."""
    searches = configured_searches(config)
    if not searches:
        return []
    return [*(search_stream(search) for search in searches), SearchCountsStream]


# Streams ----------------------------------------------------------------------------------


class SearchRejected(ClientError):
    """Zendesk refused a search request (400/422); `description` is Zendesk's reason."""

    def __init__(self, message: str, status: int, description: str) -> None:
        super().__init__(message, status)
        self.description = description


class _ExportUnavailable(Exception):
    """The search export is not offered to this account or user (403/404)."""


class _Searching(ZendeskStream):
    """What both kinds of search streams share: FULL_TABLE, and errors naming the query."""

    replication_key = None
    records_key = "results"
    forbidden_hint = "the user may not search: use an agent or admin user"
    # The search whose request is in flight: a rejection names it.
    current: SearchQuery | None = None

    def search_records(self) -> t.Iterator[Record]:
        """The stream's records."""
        raise NotImplementedError

    @override
    def get_records(self, context: Context | None) -> t.Iterable[Record]:
        """All records; a 403 skips the stream with a warning, as it does other streams."""
        try:
            with self.reading(context):
                yield from self.kept(self.search_records())
        except UnexpectedResponse as exc:
            msg = f"{self.name}: unexpected response from Zendesk search: {exc}"
            raise UnexpectedResponse(msg) from exc
        except ClientError as exc:
            self.skip_or_raise(exc)

    def search_page(self, path: str, params: t.Mapping[str, t.Any]) -> t.Any:
        """One page of a search; a 400 or 422 is Zendesk refusing the query (or a cursor):
        the error says which query."""
        try:
            return self.get(path, params)
        except ClientError as exc:
            search = self.current
            if exc.status not in {400, 422} or search is None:
                raise
            msg = (
                f"{self.name}: Zendesk rejected the search {search.name!r} "
                f"(query {search.query!r}) with {exc.status}: {exc.reason}"
            )
            raise SearchRejected(msg, exc.status, exc.reason) from None


class SearchStream(_Searching):
    """The results of one search; `search_stream` makes the class of each configured query."""

    path = EXPORT_PATH
    search: t.ClassVar[SearchQuery]
    plan: t.ClassVar[SearchPlan]

    @override
    def search_records(self) -> t.Iterator[Record]:
        """Export each type; read the query with search.json where the export is not offered."""
        if self.plan.unsupported:
            names = ", ".join(f"type:{kind}" for kind in self.plan.unsupported)
            msg = (
                f"{self.name}: the query {self.search.query!r} asks for {names}: search streams "
                "extract tickets, users and organizations; remove it from the query"
            )
            raise ZendeskError(msg)
        self.current = self.search
        emitted = _Emitted()
        for result_type in self.plan.types:
            try:
                yield from self._export(result_type, emitted)
            except _ExportUnavailable as exc:
                self.logger.warning(
                    "%s: the search export is not available (%s): reading the query with "
                    "%s, which returns at most %d results",
                    self.name,
                    exc,
                    LIST_PATH,
                    LIST_RESULT_LIMIT,
                )
                yield from self._list(emitted)
                return

    def _export(self, result_type: str, emitted: _Emitted) -> t.Iterator[Record]:
        """Every result of one type, newest first; a rejected cursor restarts it once."""
        paginator = self._export_pages(result_type)
        restarted = False
        while not paginator.finished:
            params = paginator.params()
            try:
                body = self.search_page(EXPORT_PATH, params)
            except ClientError as exc:
                if "page[after]" not in params:
                    if exc.status in {403, 404}:
                        reason = str(exc).removeprefix(f"{self.name}: ")
                        raise _ExportUnavailable(reason) from exc
                    raise
                if not isinstance(exc, SearchRejected):
                    raise
                if restarted:
                    msg = (
                        f"{self.name}: Zendesk rejected the search export's cursor again after "
                        f"a restart ({exc.description}); the export of {result_type}s for "
                        f"{self.search.query!r} could not be completed: run the tap again"
                    )
                    raise ZendeskError(msg) from exc
                restarted = True
                emitted.remember()
                self.logger.warning(
                    "%s: Zendesk rejected the search export's cursor (%s; cursors expire "
                    "after an hour): reading the %ss again from the start, skipping the %d "
                    "results already emitted",
                    self.name,
                    exc.description,
                    result_type,
                    emitted.count(result_type),
                )
                paginator = self._export_pages(result_type)
                continue
            records = paginator.records(body)
            paginator.advance(body)
            self.tally.pages += 1
            for record in records:
                record.setdefault("result_type", result_type)
                if emitted.first_time(record):
                    yield record

    def _export_pages(self, result_type: str) -> Paginator:
        query = {"query": self.plan.export_query(result_type), "filter[type]": result_type}
        size = min(EXPORT_PAGE_SIZE, self.settings.page_size)
        return CursorPages(self.records_key, page_size=size, extra_params=query)

    def _list(self, emitted: _Emitted) -> t.Iterator[Record]:
        """The query through search.json: at most 1000 results, and a warning if there are
        more."""
        emitted.remember()
        paginator = OffsetPages(
            self.records_key, per_page=LIST_PAGE_SIZE, extra_params={"query": self.search.query}
        )
        total: t.Any = None
        while not paginator.finished:
            if (paginator.page - 1) * LIST_PAGE_SIZE >= LIST_RESULT_LIMIT:
                self._warn_limit(len(emitted), total)
                return
            try:
                body = self.search_page(LIST_PATH, paginator.params())
            except SearchRejected as exc:
                if exc.status != 422 or paginator.page == 1:
                    raise
                self._warn_limit(len(emitted), total)
                return
            records = paginator.records(body)
            paginator.advance(body)
            self.tally.pages += 1
            total = body.get("count", total)
            for record in records:
                # A query without type: also finds groups, articles, ...: not this stream's.
                if record.get("result_type") in self.plan.types and emitted.first_time(record):
                    yield record

    def _warn_limit(self, emitted: int, total: t.Any) -> None:
        self.logger.warning(
            "%s: the search %r has %s results but %s returns at most %d per query: emitted "
            "%d of them. To get them all, split it into narrower search_queries, e.g. by "
            "created>=/created< date ranges",
            self.name,
            self.search.query,
            total,
            LIST_PATH,
            LIST_RESULT_LIMIT,
            emitted,
        )


@functools.cache
def search_stream(search: SearchQuery) -> type[SearchStream]:
    """The stream class of one configured search (one class per query, named for it)."""
    plan = SearchPlan.of(search.query)
    attributes = {
        "__doc__": f"Results of the Zendesk search {search.query!r}.",
        "__module__": __name__,
        "name": search.stream_name,
        "search": search,
        "plan": plan,
        "primary_keys": ("result_type", "id") if plan.mixed else ("id",),
        "schema": ConfiguredSchema(SEARCH_SCHEMAS, key=plan.schema_types),
    }
    class_name = "Search" + search.name.title().replace("_", "") + "Stream"
    return type(class_name, (SearchStream,), attributes)


class SearchCountsStream(_Searching):
    """How many results each configured search has: one row per query per run."""

    name = "search_counts"
    path = COUNT_PATH
    primary_keys = ("query_name", "counted_at")

    @override
    def search_records(self) -> t.Iterator[Record]:
        """`/search/count.json` of every configured query, stamped with the run's time."""
        counted_at = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        counted_at = counted_at.replace("+00:00", "Z")
        for search in self.settings.searches:
            self.current = search
            body = self.search_page(COUNT_PATH, {"query": search.query})
            count = body.get("count") if isinstance(body, dict) else None
            if isinstance(count, bool) or not isinstance(count, int):
                msg = f"{COUNT_PATH} for {search.query!r} has no integer 'count'"
                raise UnexpectedResponse(msg)
            yield {
                "query_name": search.name,
                "query": search.query,
                "count": count,
                "counted_at": counted_at,
            }


class _Emitted:
    """The results one stream emitted in this run, to skip them when a query is re-read.

    Kept as 8-byte ids per result type; only a re-read needs the set to look them up.
    """

    def __init__(self) -> None:
        self._ids: dict[str, array[int]] = {}
        self._lookup: set[tuple[str, int]] | None = None

    def __len__(self) -> int:
        return sum(len(ids) for ids in self._ids.values())

    def count(self, result_type: str) -> int:
        """How many results of one type were emitted."""
        return len(self._ids.get(result_type, ()))

    def first_time(self, record: Record) -> bool:
        """Whether `record` was not emitted yet; it counts as emitted from now on."""
        result_type, item_id = record.get("result_type"), record.get("id")
        if isinstance(item_id, bool) or not isinstance(item_id, int):
            msg = f"a search result has no integer 'id': {str(item_id)[:40]!r}"
            raise UnexpectedResponse(msg)
        key = (str(result_type), item_id)
        if self._lookup is not None:
            if key in self._lookup:
                return False
            self._lookup.add(key)
        self._ids.setdefault(key[0], array("q")).append(item_id)
        return True

    def remember(self) -> None:
        """From now on, look up what was emitted (before a restart or a re-read)."""
        if self._lookup is None:
            self._lookup = {(kind, i) for kind, ids in self._ids.items() for i in ids}
