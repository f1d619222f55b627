"""Organizations."""

from tap_zendesk.client import IncrementalExportStream
from tap_zendesk.pagination import Record, TimeExport


class OrganizationsStream(IncrementalExportStream):
    """Every organization, from the time-based export (Zendesk has no cursor export for them)."""

    name = "organizations"
    path = "/incremental/organizations.json"
    records_key = "organizations"
    replication_key = "updated_at"
    export_style = TimeExport

    def is_deleted(self, record: Record) -> bool:
        """A deleted organization has a `deleted_at`."""
        return record.get("deleted_at") is not None
