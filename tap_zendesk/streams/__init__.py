"""Zendesk streams, one module per Zendesk domain."""

from tap_zendesk.streams.organizations import OrganizationsStream
from tap_zendesk.streams.tickets import TicketsStream
from tap_zendesk.streams.users import UsersStream

STREAMS = (TicketsStream, UsersStream, OrganizationsStream)

__all__ = ["STREAMS", "OrganizationsStream", "TicketsStream", "UsersStream"]
