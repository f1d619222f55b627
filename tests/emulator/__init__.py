"""Local emulator of the Zendesk Support API's incremental exports, for tests and benchmarks.

Behaviour follows Zendesk's documentation and recorded traffic, each module citing its sources
(https://developer.zendesk.com/api-reference/ pages, and the recorded responses in
tests/fixtures/), embedded here so a fresh clone is enough:

- cursor exports ``/api/v2/incremental/{tickets,users}/cursor.json`` and time-based exports
  ``/api/v2/incremental/{tickets,users,organizations}.json`` with Zendesk's paging quirks;
- AI-agent tickets (a tenth of the seed tickets), which the ticket exports and the ticket
  events export serve only under ``support_type_scope=ai_agent`` or ``all`` (dataset.py);
- ticket activity: time-based ``/api/v2/incremental/ticket_events.json`` (with
  ``include=comment_events``) and ``/api/v2/incremental/ticket_metric_events.json``, and per
  ticket ``/api/v2/tickets/{id}/comments.json`` and ``/audits.json`` (cursor or offset pages);
- the catalogue: ``/api/v2/ticket_fields.json`` and ``/api/v2/ticket_forms.json``;
- Basic token (deactivatable), Basic password (refused unless switched on) and Bearer auth
  with Zendesk's 401/403/404 bodies, and an OAuth server (``oauth.py``): client credentials,
  authorization code with PKCE, rotating refresh tokens, expiring access tokens;
- account and incremental-export rate limits in scaled windows, with real-second headers;
- scripted and random faults (429s, 5xx, dropped or truncated responses, slowness, and 200s
  or redirects a client should not trust);
- admin endpoints under ``/__emulator/`` so a subprocess emulator can be driven over HTTP.

Usage::

    with Emulator(tickets=300, seed=7) as emu:
        creds = emu.credentials
        requests.get(f"{emu.url}/api/v2/incremental/tickets/cursor.json",
                     params={"start_time": 0},
                     auth=(f"{creds['email']}/token", creds["api_token"]))
"""

from .dataset import Dataset
from .faults import FaultRule
from .server import Emulator

__all__ = ["Dataset", "Emulator", "FaultRule"]
