"""Users and their memberships."""

from tap_zendesk.client import IncrementalExportStream
from tap_zendesk.pagination import Record


class UsersStream(IncrementalExportStream):
    """Every user (end users, agents, admins), from the incremental cursor export."""

    name = "users"
    path = "/incremental/users/cursor.json"
    records_key = "users"
    replication_key = "updated_at"

    def is_deleted(self, record: Record) -> bool:
        """Zendesk marks a deleted user inactive (`active: false`)."""
        return record.get("active") is False
