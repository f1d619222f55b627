"""The tickets export and what `include=` brings along with it, at no extra request.

Per-ticket side-loads (metric set, dates, SLAs, comment count) stay on their ticket record.
Object side-loads (users, groups, organizations, brands) arrive as top-level arrays of the
page and become records of their own streams. The metric sets also feed `ticket_metrics`.
"""

from __future__ import annotations

import typing as t
from functools import cached_property

from typing_extensions import override

from tap_zendesk.config.settings import OBJECT_SIDELOADS, PER_TICKET_SIDELOADS
from tap_zendesk.custom_fields import TICKET_FIELDS, TypedCustomFields
from tap_zendesk.streams.base import ZendeskStream
from tap_zendesk.streams.incremental import IncrementalExportStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_zendesk.api.pagination import Record

METRIC_SETS = "metric_sets"
METRIC_SET = PER_TICKET_SIDELOADS[METRIC_SETS]


class TicketMetricsStream(ZendeskStream):
    """One metric set per ticket: reply, resolution and wait times, reopens, replies.

    No request of its own: metric sets ride on the tickets export (`include=metric_sets`).
    Selecting this stream adds `metric_sets` to that include even when `ticket_sideloads`
    leaves it out; tickets then do not carry `metric_set` themselves.

    Incremental on `updated_at` (each row is the metric set's latest version) but with no
    bookmark of its own, which stays empty in the state: a changed ticket comes back in the
    tickets export with its current metric set, so this stream advances with the tickets
    bookmark.
    """

    name = "ticket_metrics"
    fed_by = "tickets"
    replication_key = "updated_at"


class SideloadingTicketExport(IncrementalExportStream):
    """The tickets export with the side-loads of `ticket_sideloads` (and of ticket_metrics).

    An object side-loaded on many pages (the same requester, the same group) is emitted once
    per version, (id, updated_at), in a run.
    """

    @cached_property
    def include(self) -> tuple[str, ...]:
        """The `include=` values: the configured ones, and metric_sets for ticket_metrics."""
        configured = self.settings.ticket_sideloads
        metrics = self.tap.streams.get(TicketMetricsStream.name)
        if METRIC_SETS not in configured and metrics is not None and metrics.selected:
            return (*configured, METRIC_SETS)
        return configured

    @property
    @override
    def export_params(self) -> dict[str, str]:  # type: ignore[override]
        """`include` on every export request when side-loads are wanted."""
        return {"include": ",".join(self.include)} if self.include else {}

    @override
    def configure_schema(self, schema: dict[str, t.Any]) -> dict[str, t.Any]:
        """Per-ticket side-load properties only for the side-loads asked for."""
        schema = super().configure_schema(schema)
        for name, key in PER_TICKET_SIDELOADS.items():
            if name not in self.settings.ticket_sideloads:
                schema["properties"].pop(key, None)
        return schema

    @override
    def receive_page(self, body: t.Any, items: list[Record], context: Context | None) -> None:
        """Metric sets onto their tickets and into ticket_metrics; side-loaded objects out."""
        super().receive_page(body, items, context)
        if not self.include:
            return
        if METRIC_SETS in self.include:
            self._metric_sets(body, items)
        for name in self._emitted_objects:
            self.feed(name, self._first_seen(name, body.get(name)))

    def _metric_sets(self, body: dict[str, t.Any], tickets: list[Record]) -> None:
        # Zendesk embeds each ticket's metric set, or (seen elsewhere) lists them at the top
        # level by ticket_id: both end up on the ticket, an embedded one winning.
        listed = body.get(METRIC_SETS)
        if isinstance(listed, list):
            by_ticket = {m.get("ticket_id"): m for m in listed if isinstance(m, dict)}
            for ticket in tickets:
                if ticket.get(METRIC_SET) is None and ticket.get("id") in by_ticket:
                    ticket[METRIC_SET] = by_ticket[ticket["id"]]
        self.feed(
            TicketMetricsStream.name,
            (ticket[METRIC_SET] for ticket in tickets if ticket.get(METRIC_SET)),
        )
        if METRIC_SETS not in self.settings.ticket_sideloads:
            for ticket in tickets:
                ticket.pop(METRIC_SET, None)

    @cached_property
    def _emitted_objects(self) -> tuple[str, ...]:
        """Object side-loads asked for whose stream is selected."""
        return tuple(
            name
            for name in OBJECT_SIDELOADS
            if name in self.include
            and (stream := self.tap.streams.get(name)) is not None
            and stream.selected
        )

    @cached_property
    def _seen(self) -> dict[str, set[tuple[t.Any, t.Any]]]:
        return {name: set() for name in OBJECT_SIDELOADS}

    def _first_seen(self, name: str, objects: t.Any) -> t.Iterator[Record]:
        """The objects not yet emitted in this run at this version."""
        seen = self._seen[name]
        for obj in objects if isinstance(objects, list) else ():
            version = (obj.get("id"), obj.get("updated_at")) if isinstance(obj, dict) else None
            if version is not None and version not in seen:
                seen.add(version)
                yield obj


class TicketsStream(TypedCustomFields, SideloadingTicketExport):
    """Every ticket, deleted ones included (status "deleted") so a target can merge the delete,
    with a typed column per active custom ticket field and the side-loads of ticket_sideloads.

    Bookmarked on `generated_timestamp`, Zendesk's own high-water mark: system updates move it
    without touching `updated_at`.
    """

    name = "tickets"
    path = "/incremental/tickets/cursor.json"
    records_key = "tickets"
    replication_key = "generated_timestamp"
    excludes_deleted_server_side = True
    scoped_by_support_type = True
    custom_field_source = TICKET_FIELDS
    core = True

    @override
    def is_deleted(self, record: Record) -> bool:
        """A deleted ticket stays in the export with status "deleted"."""
        return record.get("status") == "deleted"
