"""The definitions of the custom user and organization fields.

Their values are in users' `user_fields` and organizations' `organization_fields`, keyed by
the field's `key`. Few rows and no incremental form: each run reads them whole (full table,
cursor pages). Custom user and organization fields are plan-gated: a 403 or 404 skips the
stream with a warning.
"""

from tap_zendesk.streams.base import ZendeskStream


class UserFieldsStream(ZendeskStream):
    """Every custom user field, active or not, with its options."""

    name = "user_fields"
    path = "/user_fields.json"
    records_key = "user_fields"
    skip_statuses = frozenset({403, 404})
    forbidden_hint = "the user's role or the plan does not include custom user fields"


class OrganizationFieldsStream(ZendeskStream):
    """Every custom organization field, active or not, with its options."""

    name = "organization_fields"
    path = "/organization_fields.json"
    records_key = "organization_fields"
    skip_statuses = frozenset({403, 404})
    forbidden_hint = "the user's role or the plan does not include custom organization fields"
