"""Business rules and service levels: macros, views, triggers, automations, SLA policies and
the business-hours schedules SLAs are measured in.

These are configuration: tens to a few thousand rows, with `updated_at` but no server-side
filter on it, so each run reads them whole (full table). Macros, views, triggers and
automations page by cursor; SLA policies and schedules come in one response. SLA policies and
schedules are plan-gated (Professional / Suite Growth and up): a 403 skips the stream with a
warning and the sync goes on.
"""

from __future__ import annotations

from tap_zendesk.api.pagination import OffsetPages
from tap_zendesk.streams.base import ZendeskStream


class MacrosStream(ZendeskStream):
    """Every macro, active or not, shared or personal, with its actions and restriction."""

    name = "macros"
    path = "/macros.json"
    records_key = "macros"


class ViewsStream(ZendeskStream):
    """Every view, active or not, with its conditions, columns and restriction."""

    name = "views"
    path = "/views.json"
    records_key = "views"


class TriggersStream(ZendeskStream):
    """Every trigger, active or not, with its conditions, actions and category."""

    name = "triggers"
    path = "/triggers.json"
    records_key = "triggers"
    forbidden_hint = "triggers are listed for admins and agents who may manage business rules"


class AutomationsStream(ZendeskStream):
    """Every automation (time-based rule), active or not, with its conditions and actions."""

    name = "automations"
    path = "/automations.json"
    records_key = "automations"
    forbidden_hint = "automations are listed for admins and agents who may manage business rules"


class SlaPoliciesStream(ZendeskStream):
    """SLA policies in matching order, with their filter and targets per priority and metric."""

    name = "sla_policies"
    path = "/slas/policies.json"
    records_key = "sla_policies"
    paging = OffsetPages
    forbidden_hint = "SLA policies need an admin on a plan with SLAs (Professional / Growth and up)"


class SchedulesStream(ZendeskStream):
    """Business-hours schedules with their weekly intervals (minutes from Sunday 00:00)."""

    name = "schedules"
    path = "/business_hours/schedules.json"
    records_key = "schedules"
    paging = OffsetPages
    forbidden_hint = (
        "schedules need an admin on a plan with business hours (Professional / Growth and up)"
    )
