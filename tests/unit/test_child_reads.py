"""Reads of one ticket's children: a ticket Zendesk will not show is skipped, not the sync."""

from __future__ import annotations

import pytest
import responses

from tap_zendesk.api.errors import ClientError
from tap_zendesk.api.pagination import CursorPages
from tap_zendesk.tap import TapZendesk
from tests.support.recorded import MOCKED_ACCOUNT

CONFIG = {**MOCKED_ACCOUNT, "comments_source": "per_ticket"}
COMMENTS = "https://acme.zendesk.com/api/v2/tickets/7/comments.json"
PATH = "/tickets/{ticket_id}/comments.json"


def _stream():
    return TapZendesk(config=CONFIG, parse_env_config=False).streams["ticket_comments"]


@pytest.mark.parametrize("status", [403, 404, 422])
def test_a_ticket_answering_403_404_or_422_is_skipped_with_a_warning(status, caplog):
    with responses.RequestsMock() as mock:
        mock.get(COMMENTS, status=status, json={"error": "RecordNotFound", "description": "x"})
        assert _stream().read_all(PATH, {"ticket_id": 7}, CursorPages("comments")) is None
    assert "skipped /tickets/7/comments.json" in caplog.text


def test_other_client_errors_still_stop_the_sync():
    with responses.RequestsMock() as mock:
        mock.get(COMMENTS, status=400, json={"error": "InvalidValue", "description": "bad"})
        with pytest.raises(ClientError, match=r"400 Bad Request.*InvalidValue: bad"):
            _stream().read_all(PATH, {"ticket_id": 7}, CursorPages("comments"))


def test_all_pages_of_one_ticket_are_read():
    first = {"comments": [{"id": 1}], "meta": {"has_more": True, "after_cursor": "c1"}}
    last = {"comments": [{"id": 2}], "meta": {"has_more": False, "after_cursor": "c2"}}
    with responses.RequestsMock() as mock:
        mock.get(
            COMMENTS,
            json=first,
            match=[responses.matchers.query_param_matcher({"page[size]": "100"})],
        )
        mock.get(
            COMMENTS,
            json=last,
            match=[
                responses.matchers.query_param_matcher({"page[size]": "100", "page[after]": "c1"})
            ],
        )
        records = _stream().read_all(PATH, {"ticket_id": 7}, CursorPages("comments"))
    assert records == [{"id": 1}, {"id": 2}]


def test_fan_out_returns_results_in_input_order():
    stream = _stream()
    results = list(stream.fan_out(lambda n: n * n, range(50)))
    assert results == [(n, n * n) for n in range(50)]
