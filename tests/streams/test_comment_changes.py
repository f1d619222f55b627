"""Comments that change after they were written: made private, or redacted.

The ticket events export records such a change as a later event of the ticket
(`CommentPrivacyChange`, `CommentRedactionEvent`, both naming `comment_id`), not as a new
version of the comment. A merging target must still end with each comment as it is now.
"""

from __future__ import annotations

from tests.emulator.activity import REDACTED
from tests.support.tap import catalog_for, config_for


def _sync(run_tap, emulator, state=None, streams=("ticket_comments",)):
    config = config_for(emulator)
    run = run_tap(config, catalog=catalog_for(config, streams), state=state)
    assert run.returncode == 0, run.stderr
    return run


def _merged(*runs) -> dict[int, dict]:
    """What a merging target holds: the latest version of each comment."""
    latest: dict[int, dict] = {}
    for run in runs:
        for comment in run.records("ticket_comments"):
            latest[comment["id"]] = comment
    return latest


def test_a_comment_made_private_after_a_run_is_private_after_the_next(emulator, run_tap):
    first = _sync(run_tap, emulator)
    changed = emulator.mutate(privatize_comments=5)["privatize_comments"]
    assert len(changed) == 5
    assert all(_merged(first)[cid]["public"] for cid in changed)

    second = _sync(run_tap, emulator, first.final_state)

    merged = _merged(first, second)
    assert [merged[cid]["public"] for cid in changed] == [False] * 5


def test_a_redacted_comment_arrives_redacted_in_the_next_run(emulator, run_tap):
    first = _sync(run_tap, emulator)
    changed = emulator.mutate(redact_comments=3)["redact_comments"]

    second = _sync(run_tap, emulator, first.final_state)

    merged = _merged(first, second)
    for cid in changed:
        assert REDACTED not in _merged(first)[cid]["body"]
        assert REDACTED in merged[cid]["body"]
        assert REDACTED in merged[cid]["plain_body"]


def test_after_both_runs_every_comment_is_as_zendesk_serves_it_now(emulator, run_tap):
    first = _sync(run_tap, emulator)
    emulator.mutate(privatize_comments=4, redact_comments=2, update_tickets=3)
    second = _sync(run_tap, emulator, first.final_state)

    merged = _merged(first, second)
    now = {comment["id"]: comment for comment in emulator.dataset.comments()}
    assert set(merged) == set(now)
    for cid, comment in now.items():
        assert (merged[cid]["public"], merged[cid]["body"]) == (comment["public"], comment["body"])


def test_each_changed_ticket_costs_one_request_and_unchanged_comments_are_not_repeated(
    emulator, run_tap
):
    first = _sync(run_tap, emulator)
    result = emulator.mutate(privatize_comments=3, redact_comments=2)
    emulator.reset_stats()

    second = _sync(run_tap, emulator, first.final_state)

    reads = emulator.stats["requests_by_path"]
    comment_reads = {path: n for path, n in reads.items() if path.endswith("/comments.json")}
    assert sorted(comment_reads.values()) == [1] * len(result["comment_change_tickets"]) == [1] * 5
    assert sorted(second.ids("ticket_comments")) == sorted(
        result["privatize_comments"] + result["redact_comments"]
    )
