"""Ticket fields, ticket forms and the forms' conditional fields."""

from __future__ import annotations

import json
import typing as t

from typing_extensions import override

from tap_zendesk.api.pagination import OffsetPages, Record
from tap_zendesk.streams.base import ZendeskStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class TicketFieldsStream(ZendeskStream):
    """Every ticket field, system fields included, with their options and statuses."""

    name = "ticket_fields"
    path = "/ticket_fields.json"
    records_key = "ticket_fields"


class TicketFormsStream(ZendeskStream):
    """Ticket forms. Forms are plan-gated: a 403 or 404 skips the stream with a warning."""

    name = "ticket_forms"
    path = "/ticket_forms.json"
    records_key = "ticket_forms"
    skip_statuses = frozenset({403, 404})
    forbidden_hint = "ticket forms need a plan that includes them (Enterprise or an add-on)"
    # The forms list answers in one offset-style page.
    paging = OffsetPages


class TicketFormEndUserConditionsStream(TicketFormsStream):
    """One row per (form, parent field, parent value, child field) of end-user conditions."""

    name = "ticket_form_end_user_conditions"
    primary_keys = ("ticket_form_id", "parent_field_id", "value", "child_field_id")
    conditions_key = "end_user_conditions"

    @override
    def transform_page(self, items: list[Record], context: Context | None) -> t.Iterable[Record]:
        """Flatten each form's conditions and their child fields."""
        for form in items:
            for condition in form.get(self.conditions_key) or []:
                for child in condition.get("child_fields") or []:
                    yield self.row(form, condition, child)

    def row(self, form: Record, condition: Record, child: Record) -> Record:
        """The form, the parent field and value, and the child field it shows."""
        return {
            "ticket_form_id": form["id"],
            "ticket_form_name": form.get("name"),
            "parent_field_id": condition.get("parent_field_id"),
            "parent_field_type": condition.get("parent_field_type"),
            "value": condition_value(condition.get("value")),
            "child_field_id": child.get("id"),
            "is_required": child.get("is_required"),
        }


def condition_value(value: t.Any) -> str:
    """A condition's parent value as text, so the composite key has one type in every target."""
    return value if isinstance(value, str) else json.dumps(value)


class TicketFormAgentConditionsStream(TicketFormEndUserConditionsStream):
    """One row per (form, parent field, parent value, child field) of the agent conditions."""

    name = "ticket_form_agent_conditions"
    conditions_key = "agent_conditions"

    @override
    def row(self, form: Record, condition: Record, child: Record) -> Record:
        """Agent conditions also say on which statuses the child field is required."""
        statuses = child.get("required_on_statuses") or {}
        return {
            **super().row(form, condition, child),
            "required_on_statuses_type": statuses.get("type"),
            "required_on_statuses": statuses.get("statuses"),
        }
