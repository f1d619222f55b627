"""A small soak in every `make test`: incremental runs in a row with changes and 2 % faults
between them lose nothing, repeat at most a page, and keep the state flat (tests/support/soak.py;
`make soak` runs 50)."""

from __future__ import annotations

from tests.support.soak import PAGE, soak


def test_ten_incremental_runs_with_changes_and_faults_lose_nothing(tmp_path):
    result = soak(10, tmp_path, tickets=150)

    assert result.runs == 10
    assert result.worst_duplicates_per_run <= PAGE
