"""Zendesk streams, one module per Zendesk domain."""

from __future__ import annotations

import typing as t

from tap_zendesk.streams.account import BrandsStream, GroupsStream
from tap_zendesk.streams.business_rules import (
    AutomationsStream,
    MacrosStream,
    SchedulesStream,
    SlaPoliciesStream,
    TriggersStream,
    ViewsStream,
)
from tap_zendesk.streams.comments import TicketCommentAttachmentsStream, TicketCommentsPerTicket
from tap_zendesk.streams.fields import OrganizationFieldsStream, UserFieldsStream
from tap_zendesk.streams.forms import (
    TicketFieldsStream,
    TicketFormAgentConditionsStream,
    TicketFormEndUserConditionsStream,
    TicketFormsStream,
)
from tap_zendesk.streams.memberships import GroupMembershipsStream, OrganizationMembershipsStream
from tap_zendesk.streams.metric_events import TicketMetricEventsStream
from tap_zendesk.streams.organizations import OrganizationsStream
from tap_zendesk.streams.satisfaction import SatisfactionRatingsStream
from tap_zendesk.streams.search import search_stream_classes
from tap_zendesk.streams.ticket_events.audits import TicketAuditsStream
from tap_zendesk.streams.ticket_events.comments import TicketCommentsFromEvents
from tap_zendesk.streams.ticket_events.field_history import TicketFieldHistoryStream
from tap_zendesk.streams.ticket_events.reader import TicketEventsStream
from tap_zendesk.streams.ticket_extras import CustomStatusesStream, DeletedTicketsStream, TagsStream
from tap_zendesk.streams.tickets import TicketMetricsStream, TicketsStream
from tap_zendesk.streams.users import UsersStream

if t.TYPE_CHECKING:
    from tap_zendesk.streams.base import ZendeskStream


def stream_classes(config: t.Mapping[str, t.Any]) -> list[type[ZendeskStream]]:
    """The streams of this tap; `comments_source` picks how ticket_comments is read."""
    comments = (
        TicketCommentsPerTicket
        if config.get("comments_source") == "per_ticket"
        else TicketCommentsFromEvents
    )
    attachments = (
        [] if config.get("include_attachments") is False else [TicketCommentAttachmentsStream]
    )
    return [
        TicketsStream,
        TicketMetricsStream,
        comments,
        *attachments,
        TicketAuditsStream,
        TicketFieldHistoryStream,
        TicketMetricEventsStream,
        TicketFieldsStream,
        TicketFormsStream,
        TicketFormAgentConditionsStream,
        TicketFormEndUserConditionsStream,
        UsersStream,
        OrganizationsStream,
        GroupsStream,
        BrandsStream,
        TicketEventsStream,
        DeletedTicketsStream,
        TagsStream,
        CustomStatusesStream,
        SatisfactionRatingsStream,
        GroupMembershipsStream,
        OrganizationMembershipsStream,
        UserFieldsStream,
        OrganizationFieldsStream,
        MacrosStream,
        ViewsStream,
        TriggersStream,
        AutomationsStream,
        SlaPoliciesStream,
        SchedulesStream,
        *search_stream_classes(config),
    ]
