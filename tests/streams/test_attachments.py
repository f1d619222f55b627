"""Attachments: on their comments and as a flat table, or (include_attachments false) nowhere.

The attachment rows come from the comments already read: no request of their own.
"""

from __future__ import annotations

from tests.support.tap import catalog_for, config_for

WITH_ROWS = ("ticket_comments", "ticket_comment_attachments", "ticket_audits")


def _attachments_of_comments(emulator) -> dict[int, dict]:
    """Every attachment of every comment in the events export, with its comment and ticket."""
    return {
        attachment["id"]: {**attachment, "comment_id": child["id"], "ticket_id": event["ticket_id"]}
        for event in emulator.dataset.ticket_events(include_comments=True)
        for child in event["child_events"]
        if child["event_type"] == "Comment"
        for attachment in child.get("attachments") or []
    }


def _sync(run_tap, emulator, streams, **settings):
    config = config_for(emulator, page_size=50, **settings)
    run = run_tap(config, catalog=catalog_for(config, streams))
    assert run.returncode == 0, run.stderr
    return run


def test_each_attachment_is_one_row_naming_its_comment_and_ticket(emulator, run_tap):
    truth = _attachments_of_comments(emulator)
    assert truth, "the emulator's comments should have attachments"

    run = _sync(run_tap, emulator, WITH_ROWS)

    rows = run.records("ticket_comment_attachments")
    assert sorted(row["id"] for row in rows) == sorted(truth)
    for row in rows:
        expected = truth[row["id"]]
        for column in (
            "ticket_id",
            "comment_id",
            "file_name",
            "content_type",
            "size",
            "content_url",
            "inline",
            "malware_scan_result",
        ):
            assert row[column] == expected.get(column), column


def test_comments_keep_their_attachments_array_by_default(emulator, run_tap):
    run = _sync(run_tap, emulator, WITH_ROWS)

    attached = [c for c in run.records("ticket_comments") if c.get("attachments")]
    assert attached
    rows = {row["id"]: row for row in run.records("ticket_comment_attachments")}
    for comment in attached:
        for attachment in comment["attachments"]:
            assert rows[attachment["id"]]["comment_id"] == comment["id"]


def test_attachment_rows_alone_still_read_the_comments_but_emit_none(emulator, run_tap):
    run = _sync(run_tap, emulator, ["ticket_comment_attachments"])

    assert run.records("ticket_comment_attachments")
    assert not run.records("ticket_comments")


def test_without_attachments_nothing_attachment_related_is_emitted(emulator, run_tap):
    config = config_for(emulator, page_size=50, include_attachments=False)
    catalog = catalog_for(config, ["ticket_comments", "ticket_audits"])
    assert "ticket_comment_attachments" not in {e["tap_stream_id"] for e in catalog["streams"]}

    run = run_tap(config, catalog=catalog)

    assert run.returncode == 0, run.stderr
    assert run.records("ticket_comments")
    assert all("attachments" not in comment for comment in run.records("ticket_comments"))
    events = [e for audit in run.records("ticket_audits") for e in audit["events"]]
    assert events
    assert all("attachments" not in event for event in events)
    schemas = {m["stream"]: m["schema"] for m in run.messages if m["type"] == "SCHEMA"}
    assert "attachments" not in schemas["ticket_comments"]["properties"]
    assert "ticket_comment_attachments" not in schemas


def test_per_ticket_comments_feed_the_same_attachment_rows(emulator, run_tap):
    events = _sync(run_tap, emulator, WITH_ROWS)
    per_ticket = _sync(run_tap, emulator, WITH_ROWS, comments_source="per_ticket")

    live = {c["id"] for c in per_ticket.records("ticket_comments")}
    expected = {
        row["id"]
        for row in events.records("ticket_comment_attachments")
        if row["comment_id"] in live
    }
    assert expected
    assert {row["id"] for row in per_ticket.records("ticket_comment_attachments")} == expected
