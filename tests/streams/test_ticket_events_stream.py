"""ticket_events: the incremental ticket events export as Zendesk sends it, item for item
(with `include=comment_events`, the one request shape that serves every stream of the export).

It keeps its own bookmark, so selecting it beside ticket_audits or ticket_comments (which
read the same export in the same read) neither skips nor repeats anything in either.
"""

from __future__ import annotations

from tests.support.schemas import assert_valid_against_the_schemas_sent
from tests.support.tap import catalog_for, config_for

STREAM = "ticket_events"


def test_every_export_item_once_then_only_the_new_ones(emulator, run_tap):
    config = config_for(emulator, page_size=250)
    catalog = catalog_for(config, [STREAM, "ticket_audits"])
    first = run_tap(config, catalog=catalog)

    assert first.returncode == 0, first.stderr
    expected = {e["id"]: e for e in emulator.dataset.ticket_events(include_comments=True)}
    assert len(expected) > 250, "one page holds every item: the test no longer pages"
    assert {r["id"]: r for r in first.records(STREAM)} == expected
    assert len(first.ids(STREAM)) == len(expected)
    assert_valid_against_the_schemas_sent(first, [STREAM])

    changes = emulator.mutate(update_tickets=3, create_tickets=2)
    second = run_tap(config, catalog=catalog, state=first.final_state)

    assert second.returncode == 0, second.stderr
    assert sorted(second.ids(STREAM)) == sorted(changes["audits"])
    assert sorted(second.ids("ticket_audits")) == sorted(changes["audits"])
    bookmark = second.final_state["bookmarks"][STREAM]
    assert bookmark["replication_key"] == "timestamp"
    assert bookmark["replication_key_value"] == changes["timestamp"]
