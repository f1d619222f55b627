"""Tickets and what hangs off them: comments and audits."""

from __future__ import annotations

import typing as t
from functools import cached_property

from tap_zendesk.client import IncrementalExportStream, ZendeskStream, iso_timestamp, to_epoch
from tap_zendesk.custom_fields import TICKET_FIELDS, TypedCustomFields
from tap_zendesk.pagination import CursorPages, Paginator, Record
from tap_zendesk.streams.events import TicketEventsExport
from tap_zendesk.streams.history import FieldChanges, TicketFieldHistoryStream
from tap_zendesk.streams.sideloads import SideloadingTicketExport

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


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

    def is_deleted(self, record: Record) -> bool:
        """A deleted ticket stays in the export with status "deleted"."""
        return record.get("status") == "deleted"


class CommentsStream(ZendeskStream):
    """What every way of reading comments shares: their attachments, and reading one
    ticket's comments as they are now.

    With include_attachments each attachment is also a row of ticket_comment_attachments;
    without it comments carry no `attachments` at all.
    """

    comments_path = "/tickets/{ticket_id}/comments.json"

    def comments_of(self, ticket: Record) -> list[Record] | None:
        """Every comment of a ticket, or None when Zendesk refuses it (skipped, warned)."""
        context = {"ticket_id": ticket["id"]}
        return self.read_all(self.comments_path, context, CursorPages("comments"))

    def configure_schema(self, schema: dict[str, t.Any]) -> dict[str, t.Any]:
        """No `attachments` property when attachments are left out."""
        schema = super().configure_schema(schema)
        if not self.settings.include_attachments:
            schema["properties"].pop("attachments", None)
        return schema

    def with_attachments(self, comments: t.Iterable[Record]) -> t.Iterator[Record]:
        """Comments as configured; their attachments fed to ticket_comment_attachments."""
        keep = self.settings.include_attachments
        for comment in comments:
            if keep:
                self.feed(TicketCommentAttachmentsStream.name, attachment_rows(comment))
            else:
                comment.pop("attachments", None)
            yield comment


def attachment_rows(comment: Record) -> t.Iterator[Record]:
    """One row per attachment of a comment, with the comment and ticket it belongs to."""
    for attachment in comment.get("attachments") or []:
        yield {
            **attachment,
            "ticket_id": comment.get("ticket_id"),
            "comment_id": comment.get("id"),
        }


class TicketCommentAttachmentsStream(ZendeskStream):
    """One row per comment attachment, from the comments already read (no request of its own).

    Offered only with include_attachments; rows come and go with their comments' bookmark.
    """

    name = "ticket_comment_attachments"
    fed_by = "ticket_comments"


class TicketAuditsStream(TicketEventsExport):
    """Every audit of every ticket, with its events, from the ticket events export.

    The export is complete (archived and deleted tickets included), exactly-once through its
    own bookmark, and reads 1000 audits per request; `/ticket_audits.json` skips records when
    chased and per-ticket reads cost a request per ticket. The export gives `via` as the
    channel's name and `metadata` without its `custom` part.
    """

    name = "ticket_audits"
    replication_key = "created_at"

    def derive(self, items: list[Record], context: Context | None) -> t.Iterable[Record]:
        """One audit per export item."""
        for event in items:
            if event.get("event_type", "Audit") != "Audit":
                continue
            audit = {
                "id": event["id"],
                "ticket_id": event.get("ticket_id"),
                "created_at": _created_at(event),
                "author_id": event.get("updater_id"),
                "via": event.get("via"),
                "via_reference_id": event.get("via_reference_id"),
                "metadata": {"system": event.get("system")},
                "merged_ticket_ids": event.get("merged_ticket_ids"),
                "events": self.events_as_configured(event.get("child_events") or []),
            }
            self.feed(TicketFieldHistoryStream.name, self.field_changes.rows(audit))
            yield audit

    @cached_property
    def field_changes(self) -> FieldChanges:
        """The run's reader of field changes; it remembers tickets' tags between audits."""
        return FieldChanges()

    def configure_schema(self, schema: dict[str, t.Any]) -> dict[str, t.Any]:
        """No `attachments` on comment events when attachments are left out."""
        schema = super().configure_schema(schema)
        if not self.settings.include_attachments:
            schema["properties"]["events"]["items"]["properties"].pop("attachments", None)
        return schema

    def events_as_configured(self, events: list[Record]) -> list[Record]:
        """Comment events keep their attachments only with include_attachments."""
        if not self.settings.include_attachments:
            for event in events:
                event.pop("attachments", None)
        return events


class TicketCommentsFromEvents(CommentsStream, TicketEventsExport):
    """Every comment, from the Comment child events of the ticket events export (default).

    Comments of deleted tickets stay in the export and are emitted with their `ticket_id`.
    """

    name = "ticket_comments"
    replication_key = "created_at"

    def derive(self, items: list[Record], context: Context | None) -> t.Iterable[Record]:
        """One record per Comment child event; then, as they are now, the comments that the
        page's events changed after they were written (made private, redacted)."""
        changed: dict[int, set[int]] = {}
        yield from self.with_attachments(self._comments(items, changed))
        yield from self.with_attachments(self._changed_comments(changed))

    def _comments(self, items: list[Record], changed: dict[int, set[int]]) -> t.Iterator[Record]:
        for event in items:
            for child in event.get("child_events") or []:
                if child.get("event_type") not in {"Comment", "VoiceComment"}:
                    # CommentPrivacyChange, CommentRedactionEvent, AttachmentRedactionEvent
                    # and any later kind that names a comment: that comment changed.
                    if child.get("comment_id") is not None and event.get("ticket_id"):
                        changed.setdefault(event["ticket_id"], set()).add(child["comment_id"])
                    continue
                comment = {k: v for k, v in child.items() if k not in _EXPORT_ONLY_KEYS}
                yield {
                    **comment,
                    "type": child.get("type") or child["event_type"],
                    "ticket_id": event.get("ticket_id"),
                    "audit_id": child.get("audit_id") or event["id"],
                    "created_at": child.get("created_at") or _created_at(event),
                    "metadata": {"system": event.get("system")},
                }

    def _changed_comments(self, changed: dict[int, set[int]]) -> t.Iterator[Record]:
        """The comments named in `changed` (ticket -> comment ids), re-read from their
        tickets: the export keeps a comment's privacy change or redaction in a later event,
        so a merging target would otherwise keep the comment as it was first written.
        Costs one request per such ticket, against the account's budget, not the export's."""
        tickets = [{"id": ticket} for ticket in sorted(changed)]
        for ticket, comments in self.fan_out(self.comments_of, tickets):
            if comments is None:
                continue  # refused (deleted ticket, 403): read_all has warned
            wanted = changed[ticket["id"]]
            found = [comment for comment in comments if comment.get("id") in wanted]
            for comment in found:
                yield {**comment, "ticket_id": ticket["id"]}
            if missing := wanted - {comment["id"] for comment in found}:
                self.logger.warning(
                    "%s: ticket %s no longer lists changed comments %s; not re-emitted",
                    self.name,
                    ticket["id"],
                    sorted(missing),
                )


# Keys of the export's child events that are not part of a comment.
_EXPORT_ONLY_KEYS = frozenset({"event_type", "via_reference_id"})


def _created_at(event: Record) -> str:
    """An export item's time; older exports give only the `timestamp` epoch."""
    return event.get("created_at") or iso_timestamp(event["timestamp"])


class TicketCommentsPerTicket(CommentsStream, IncrementalExportStream):
    """Every comment, read per ticket from `/tickets/{id}/comments.json` (`per_ticket`).

    Reads the tickets export with its own cursor and, for each changed ticket, its comments
    on a bounded pool of workers. A comment is emitted once: in the run whose window
    (end of the previous run, the ticket's `generated_timestamp`] holds its `created_at`.
    Deleted tickets are not asked for; a 404 on one ticket skips that ticket with a warning.
    """

    name = "ticket_comments"
    path = TicketsStream.path
    records_key = "tickets"
    replication_key = "created_at"
    scoped_by_support_type = True

    def new_paginator(self, context: Context | None) -> Paginator:
        """Resume the tickets cursor; open the comment window where the last run ended."""
        state = self.resume_state(context)
        if state.get("window_done", True):
            position = state.get("position")
            self._window_start = (
                int(position) if position is not None else self.settings.start_epoch - 1
            )
        else:  # the last run was interrupted: finish its window
            self._window_start = int(state["window_start"])
        self._position = state.get("position")
        return super().new_paginator(context)

    def transform_page(self, items: list[Record], context: Context | None) -> t.Iterable[Record]:
        """The page's tickets' comments created inside this run's window, in ticket order."""
        return self.with_attachments(self._window_comments(items))

    def _window_comments(self, items: list[Record]) -> t.Iterator[Record]:
        live = [ticket for ticket in items if ticket.get("status") != "deleted"]
        for ticket, comments in self.fan_out(self.comments_of, live):
            version = ticket["generated_timestamp"]
            for comment in comments or []:
                if self._window_start < to_epoch(comment["created_at"]) <= version:
                    yield {**comment, "ticket_id": ticket["id"]}
        if items:
            self._position = items[-1]["generated_timestamp"]

    def save_bookmark(self, context: Context | None, paginator: Paginator) -> None:
        """The tickets cursor plus the comment window."""
        state = self.resume_state(context)
        state.update(
            position=self._position,
            window_start=self._window_start,
            window_done=paginator.finished,
        )
        super().save_bookmark(context, paginator)
