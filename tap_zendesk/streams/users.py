"""Users and their memberships."""

from tap_zendesk.client import IncrementalExportStream


class UsersStream(IncrementalExportStream):
    """Every user (end users, agents, admins), from the incremental cursor export."""

    name = "users"
    path = "/incremental/users/cursor.json"
    records_key = "users"
    replication_key = "updated_at"
