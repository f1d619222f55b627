"""The incumbent's layout of each stream it shares with us, keyed by stream name.

The notation is described in `tap_zendesk.legacy.schema`.
"""

from __future__ import annotations

from tap_zendesk.legacy.records import Record
from tap_zendesk.legacy.schema import LegacyLayout

# Derived values ----------------------------------------------------------------------------


def _audit_via(audit: Record) -> Record:
    """The incumbent reads audits per ticket, where `via` is an object; the ticket events
    export names the channel instead (e.g. "Web form"). A comment of the audit carries the
    audit's via object, so that is used; else the name becomes `{"channel": name}`. Events
    that name the same channel get the same object."""
    via = audit.get("via")
    if not isinstance(via, str):
        return audit
    events = audit.get("events") or []
    found = next((e["via"] for e in events if isinstance(e.get("via"), dict)), None)
    audit["via"] = found if found is not None else {"channel": via}
    for event in events:
        if event.get("via") == via:
            event["via"] = audit["via"]
        elif isinstance(event.get("via"), str):
            event["via"] = {"channel": event["via"]}
    return audit


# The layouts ------------------------------------------------------------------------------

# An SLA policy's filter condition: the incumbent declares its items non-null.
_CONDITION = "([]:object field operator value:null|string)"
# A ticket metric's durations; the incumbent has no `*_in_seconds` ones.
_MINUTES = "(calendar business)"
_VIA_TO = "to(address name)"
# A comment's and an audit's via source: from names what or who the update came from.
_VIA_SOURCE = (
    "source(from(address name original_recipients id title deleted ticket_id ticket_ids"
    f" subject) {_VIA_TO} rel)"
)
# A file attachment, and each of its thumbnails: without our malware and deletion keys.
_ATTACHMENT = (
    "url id file_name content_url mapped_content_url content_type size width height inline"
)
_ATTACHMENTS = f"attachments({_ATTACHMENT} thumbnails({_ATTACHMENT}))"
_METADATA = (
    "metadata(system custom:any trusted flags flags_options(2(trusted) 11)"
    " notifications_suppressed_for)"
)

LAYOUTS: dict[str, LegacyLayout] = {
    "tickets": LegacyLayout(
        f"""
        url id external_id via(channel source(from(address name ticket_id subject) {_VIA_TO} rel))
        created_at updated_at generated_timestamp type subject raw_subject description
        priority status recipient requester_id submitter_id assignee_id organization_id
        group_id collaborator_ids follower_ids email_cc_ids forum_topic_id problem_id
        has_incidents is_public due_at tags custom_fields(id value:any)
        satisfaction_rating:null|object|string sharing_agreement_ids followup_ids
        ticket_form_id brand_id allow_channelback allow_attachments
        """
    ),
    "ticket_comments": LegacyLayout(
        f"""
        id ticket_id audit_id author_id body html_body plain_body public type
        via(channel {_VIA_SOURCE})
        {_METADATA} created_at {_ATTACHMENTS}
        """
    ),
    "ticket_audits": LegacyLayout(
        f"""
        id ticket_id created_at author_id via:null|object(channel {_VIA_SOURCE})
        {_METADATA}
        events(
            id type field_name value:null|array|string previous_value:null|array|string
            via:null|object(channel source(from(address name original_recipients id title
                deleted revision_id ticket_id subject) {_VIA_TO} rel))
            author_id body html_body plain_body public {_ATTACHMENTS} audit_id created_at
            data(from to recording_url call_duration:null|string answered_by_id
                answered_by_name transcription_text transcription_status started_at)
            trusted formatted_from formatted_to transcription_visible:any subject recipients
            macro_id:null|string macro_title macro_deleted resource:null|string
        )
        """,
        derive=_audit_via,
        borrowed=(("via", "events.[].via"),),
    ),
    "ticket_metric_events": LegacyLayout(
        """
        id:integer ticket_id metric instance_id type time sla(target business_hours policy)
        status deleted
        """
    ),
    "ticket_fields": LegacyLayout(
        """
        url id type title raw_title description raw_description position active required
        collapsed_for_agents regexp_for_validation title_in_portal raw_title_in_portal
        visible_in_portal editable_in_portal required_in_portal tag created_at updated_at
        removable agent_description custom_field_options(id name raw_name value default)
        system_field_options([]:any) sub_type_id
        """
    ),
    "ticket_forms": LegacyLayout(
        """
        url id name raw_name display_name raw_display_name end_user_visible position
        ticket_field_ids active default in_all_brands restricted_brand_ids created_at
        updated_at
        """
    ),
    # The incumbent's ticket_metrics also declares metric event columns, always null here.
    "ticket_metrics": LegacyLayout(
        f"""
        url id ticket_id created_at updated_at group_stations assignee_stations reopens replies
        assignee_updated_at requester_updated_at status_updated_at initially_assigned_at
        assigned_at solved_at latest_comment_added_at reply_time_in_minutes{_MINUTES}
        first_resolution_time_in_minutes{_MINUTES} full_resolution_time_in_minutes{_MINUTES}
        agent_wait_time_in_minutes{_MINUTES} requester_wait_time_in_minutes{_MINUTES}
        on_hold_time_in_minutes{_MINUTES}
        metric:null|string time:null|string instance_id:null|integer type:null|string
        status:null|object(calendar:null|integer business:null|integer)
        """
    ),
    "users": LegacyLayout(
        f"""
        id url name email created_at updated_at time_zone phone shared_phone_number
        photo({_ATTACHMENT} thumbnails({_ATTACHMENT})) locale_id locale organization_id role
        role_type custom_role_id verified external_id tags alias active shared shared_agent
        last_login_at two_factor_auth_enabled signature details notes moderator
        ticket_restriction only_private_comments restricted_agent suspended chat_only
        default_group_id report_csv user_fields permanently_deleted
        """
    ),
    "organizations": LegacyLayout(
        """
        url id name shared_tickets shared_comments external_id created_at updated_at
        deleted_at domain_names details notes group_id tags organization_fields
        """
    ),
    "groups": LegacyLayout("url id name deleted created_at updated_at"),
    "group_memberships": LegacyLayout("url id user_id group_id default created_at updated_at"),
    "tags": LegacyLayout("name count", key_properties=("name",)),
    "satisfaction_ratings": LegacyLayout(
        """
        id url score comment reason reason_id assignee_id group_id requester_id ticket_id
        created_at updated_at
        """,
        types=("null", "object", "string"),
    ),
    "macros": LegacyLayout(
        """
        url id title description active position actions(field value:null|string)
        restriction created_at updated_at
        """
    ),
    "sla_policies": LegacyLayout(
        f"""
        url id:integer title description position filter(all{_CONDITION} any{_CONDITION})
        policy_metrics(priority metric:any target business_hours) created_at updated_at
        """,
        types=("object",),
    ),
}
