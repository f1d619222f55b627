"""Ticket comments, whichever way they are read, and their attachments.

`ticket_comments` comes from the ticket events export by default
(streams/ticket_events/comments.py) or, with `comments_source: per_ticket`, from one read per
changed ticket (here).
"""

from __future__ import annotations

import typing as t

from typing_extensions import override

from tap_zendesk.api.pagination import CursorPages, Paginator, Record
from tap_zendesk.streams.base import ZendeskStream
from tap_zendesk.streams.incremental import IncrementalExportStream, to_epoch
from tap_zendesk.streams.tickets import TicketsStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


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

    @override
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

    @override
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

    @override
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

    @override
    def save_bookmark(self, context: Context | None, paginator: Paginator) -> None:
        """The tickets cursor plus the comment window."""
        state = self.resume_state(context)
        state.update(
            position=self._position,
            window_start=self._window_start,
            window_done=paginator.finished,
        )
        super().save_bookmark(context, paginator)
