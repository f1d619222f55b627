"""Account configuration: agent groups and brands.

Both lists are short (tens of rows) and have no incremental form, so each run reads them whole
(full table). With the `groups` or `brands` ticket side-load, the tickets export also emits the
groups and brands its tickets reference, as records of these streams.
"""

from tap_zendesk.streams.base import ZendeskStream


class GroupsStream(ZendeskStream):
    """Every agent group of the account."""

    name = "groups"
    path = "/groups.json"
    records_key = "groups"


class BrandsStream(ZendeskStream):
    """Every brand of the account."""

    name = "brands"
    path = "/brands.json"
    records_key = "brands"
    forbidden_hint = (
        "listing brands needs an admin, or an agent allowed to assign tickets to any brand"
    )
