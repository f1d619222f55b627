"""ticket_comments from the Comment child events of the ticket events export (the default)."""

from __future__ import annotations

import typing as t

from typing_extensions import override

from tap_zendesk.streams.comments import CommentsStream
from tap_zendesk.streams.ticket_events.reader import TicketEventsExport, created_at

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_zendesk.api.pagination import Record


class TicketCommentsFromEvents(CommentsStream, TicketEventsExport):
    """Every comment, from the Comment child events of the ticket events export (default).

    Comments of deleted tickets stay in the export and are emitted with their `ticket_id`.
    """

    name = "ticket_comments"
    replication_key = "created_at"

    @override
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
                    "created_at": child.get("created_at") or created_at(event),
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
