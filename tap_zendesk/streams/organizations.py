"""Organizations."""

from typing_extensions import override

from tap_zendesk.api.pagination import Record, TimeExport
from tap_zendesk.custom_fields import ORGANIZATION_FIELDS, TypedCustomFields
from tap_zendesk.streams.incremental import IncrementalExportStream


class OrganizationsStream(TypedCustomFields, IncrementalExportStream):
    """Every organization, from the time-based export (Zendesk has no cursor export for them),
    with a typed column per active organization field."""

    name = "organizations"
    path = "/incremental/organizations.json"
    records_key = "organizations"
    replication_key = "updated_at"
    export_style = TimeExport
    custom_field_source = ORGANIZATION_FIELDS
    core = True

    @override
    def is_deleted(self, record: Record) -> bool:
        """A deleted organization has a `deleted_at`."""
        return record.get("deleted_at") is not None
