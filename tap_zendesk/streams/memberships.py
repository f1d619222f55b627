"""Who belongs where: agents in groups, users in organizations.

Both lists carry `updated_at` but Zendesk cannot filter them on it, so each run reads them
whole (full table, cursor pages of 100).
"""

from tap_zendesk.streams.base import ZendeskStream


class GroupMembershipsStream(ZendeskStream):
    """Every agent's membership of a group; `default` marks the group their tickets go to."""

    name = "group_memberships"
    path = "/group_memberships.json"
    records_key = "group_memberships"


class OrganizationMembershipsStream(ZendeskStream):
    """Every user's membership of an organization; `default` is true on the user's default
    organization and null (not false) on the others."""

    name = "organization_memberships"
    path = "/organization_memberships.json"
    records_key = "organization_memberships"
