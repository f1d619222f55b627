"""Recorded Zendesk responses (tests/fixtures/), and the account the `responses` tests mock."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# Tests that mock Zendesk with `responses` answer only the endpoints they mock, so the field
# definitions discovery would read are turned off.
MOCKED_ACCOUNT = {
    "url": "acme",
    "email": "admin@acme.com",
    "api_token": "tok",
    "start_date": "2024-01-01",
    "typed_custom_fields": False,
}
TICKETS_EXPORT_URL = "https://acme.zendesk.com/api/v2/incremental/tickets/cursor.json"
_RECORDED = json.loads((FIXTURES / "recorded_pages.json").read_text())
# The last page of a recorded tickets cursor export.
LAST_TICKETS_PAGE = _RECORDED["responses"]["tickets_cursor_last_page"]["payload"]
