"""Users and their memberships."""

from typing_extensions import override

from tap_zendesk.api.pagination import Record
from tap_zendesk.custom_fields import USER_FIELDS, TypedCustomFields
from tap_zendesk.streams.incremental import IncrementalExportStream


class UsersStream(TypedCustomFields, IncrementalExportStream):
    """Every user (end users, agents, admins), from the incremental cursor export, with a typed
    column per active user field."""

    name = "users"
    path = "/incremental/users/cursor.json"
    records_key = "users"
    replication_key = "updated_at"
    custom_field_source = USER_FIELDS
    core = True

    @override
    def is_deleted(self, record: Record) -> bool:
        """Zendesk marks a deleted user inactive (`active: false`)."""
        return record.get("active") is False
