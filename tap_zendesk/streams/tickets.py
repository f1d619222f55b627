"""Tickets and what hangs off them."""

from tap_zendesk.client import IncrementalExportStream


class TicketsStream(IncrementalExportStream):
    """Every ticket, deleted ones included (status "deleted") so a target can merge the delete.

    Bookmarked on `generated_timestamp`, Zendesk's own high-water mark: system updates move it
    without touching `updated_at`.
    """

    name = "tickets"
    path = "/incremental/tickets/cursor.json"
    records_key = "tickets"
    replication_key = "generated_timestamp"
