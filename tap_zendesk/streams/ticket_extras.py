"""Ticket data beside the tickets export: tags, custom statuses, deleted tickets, and the raw
ticket events export.
"""

from __future__ import annotations

from tap_zendesk.api.pagination import OffsetPages
from tap_zendesk.streams.base import ZendeskStream


class TagsStream(ZendeskStream):
    """The account's tags with how many records carry each, most used first.

    Zendesk lists up to 20 000 tags used in the last 60 days; counts change without any
    timestamp, so each run reads the list whole (full table, cursor pages).
    """

    name = "tags"
    path = "/tags.json"
    records_key = "tags"
    primary_keys = ("name",)


class CustomStatusesStream(ZendeskStream):
    """Custom ticket statuses, active or not; tickets name theirs in `custom_status_id`.

    One response without paging, read whole each run (full table).
    """

    name = "custom_statuses"
    path = "/custom_statuses.json"
    records_key = "custom_statuses"
    forbidden_hint = "the user's role or the account lacks custom ticket statuses"
    paging = OffsetPages


class DeletedTicketsStream(ZendeskStream):
    """Tickets deleted but not yet purged (about 30 days), with who deleted them and when.

    Full table: the list cannot be filtered by `deleted_at`, and a ticket leaves it when it is
    restored or purged, which only a full read notices. The tickets export still emits deleted
    tickets (status "deleted") for merging deletions; this stream adds actor and previous state.
    """

    name = "deleted_tickets"
    path = "/deleted_tickets.json"
    records_key = "deleted_tickets"
    forbidden_hint = "listing deleted tickets needs an admin or an agent allowed to delete tickets"
