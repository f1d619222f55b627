"""Each Zendesk paging style, walked over recorded Zendesk pages and the edge cases around them."""

from __future__ import annotations

import json

import pytest

from tap_zendesk.api.errors import UnexpectedResponse
from tap_zendesk.api.pagination import (
    CursorExport,
    CursorPages,
    OffsetPages,
    StuckExport,
    TimeExport,
)
from tests.support.recorded import FIXTURES

RECORDED = json.loads((FIXTURES / "recorded_pages.json").read_text())


def page(name: str) -> dict:
    return RECORDED["responses"][name]["payload"]


# Cursor-based incremental export -------------------------------------------------------------


def test_cursor_export_starts_with_start_time_then_follows_after_cursor():
    paginator = CursorExport("tickets", start_time=1700000000, cursor=None, page_size=1000)
    assert paginator.params() == {"start_time": 1700000000, "per_page": 1000}

    paginator.advance(page("tickets_cursor_full_page"))

    assert not paginator.finished
    assert paginator.params() == {"cursor": "MTY5NTA2MjcyNC4wfHwxNTcxfA==", "per_page": 1000}


def test_cursor_export_keeps_the_final_cursor_for_the_next_run():
    paginator = CursorExport("tickets", start_time=0, cursor="earlier", page_size=1000)

    paginator.advance(page("tickets_cursor_last_page"))

    assert paginator.finished
    assert paginator.bookmark() == {"cursor": "MTcwNzI3MTc0MS4wfHw0MDQ1fA=="}


def test_cursor_export_resumes_from_a_saved_cursor_without_start_time():
    paginator = CursorExport("users", start_time=5, cursor="saved", page_size=100)
    assert paginator.params() == {"cursor": "saved", "per_page": 100}


def test_cursor_export_refuses_a_cursor_that_does_not_move():
    paginator = CursorExport("tickets", start_time=0, cursor=None, page_size=1)
    paginator.advance(page("tickets_cursor_per_page_1"))

    with pytest.raises(UnexpectedResponse, match="after_cursor did not move"):
        paginator.advance(page("tickets_cursor_per_page_1"))


def test_cursor_export_refuses_a_page_without_end_of_stream():
    paginator = CursorExport("tickets", start_time=0, cursor=None, page_size=1)
    with pytest.raises(UnexpectedResponse, match="no boolean 'end_of_stream'"):
        paginator.advance({"tickets": [], "after_cursor": "x"})


def test_records_must_be_a_list_of_objects():
    paginator = CursorExport("tickets", start_time=0, cursor=None, page_size=1)
    assert len(paginator.records(page("tickets_cursor_full_page"))) == 1
    for body in ({}, {"tickets": None}, {"tickets": ["x"]}, ["not", "an", "object"]):
        with pytest.raises(UnexpectedResponse, match="no 'tickets' list of objects"):
            paginator.records(body)


# Time-based incremental export ---------------------------------------------------------------


def _time_export(**kwargs) -> TimeExport:
    options = {"start_time": 100, "page_size": 3, "timestamp_of": lambda r: r["ts"], **kwargs}
    return TimeExport("items", **options)


def _time_page(items: list[tuple[int, int]], end_time: int, end: bool = False) -> dict:
    records = [{"id": i, "ts": ts} for i, ts in items]
    return {"items": records, "count": len(records), "end_of_stream": end, "end_time": end_time}


def test_time_export_continues_from_end_time():
    paginator = TimeExport(
        "tickets", start_time=0, page_size=1000, timestamp_of=lambda r: r["generated_timestamp"]
    )
    full = page("tickets_time_full_page")

    paginator.advance(full)

    assert paginator.params() == {"start_time": 1695062724, "per_page": 1000}
    assert not paginator.finished


def test_time_export_drops_the_boundary_duplicates_zendesk_repeats():
    paginator = _time_export()
    first = _time_page([(1, 100), (2, 101), (3, 102)], end_time=102)
    assert [r["id"] for r in paginator.records(first)] == [1, 2, 3]
    paginator.advance(first)

    second = _time_page([(3, 102), (4, 102), (5, 103)], end_time=103, end=True)

    assert [r["id"] for r in paginator.records(second)] == [4, 5]
    paginator.advance(second)
    assert paginator.finished


def test_time_export_keeps_a_record_that_changed_again_at_a_later_second():
    paginator = _time_export()
    paginator.advance(_time_page([(1, 100), (2, 101), (3, 102)], end_time=102))

    later = _time_page([(3, 105)], end_time=105, end=True)

    assert [r["id"] for r in paginator.records(later)] == [3]


def test_time_export_follows_the_same_second_expansion():
    """Zendesk returns a whole crowded second and sets end_time to the next second."""
    paginator = _time_export()
    crowded = _time_page([(i, 100) for i in range(1, 8)], end_time=101)

    paginator.advance(crowded)

    assert paginator.params()["start_time"] == 101
    assert paginator.bookmark() == {"end_time": 101, "boundary_ids": []}


def test_time_export_bookmark_carries_the_boundary_into_the_next_run():
    paginator = _time_export()
    paginator.advance(_time_page([(1, 100), (2, 101), (3, 101)], end_time=101, end=True))
    bookmark = paginator.bookmark()
    assert bookmark == {"end_time": 101, "boundary_ids": [2, 3]}

    resumed = _time_export(start_time=bookmark["end_time"], seen_at_start=bookmark["boundary_ids"])
    again = _time_page([(2, 101), (3, 101), (9, 101)], end_time=101, end=True)

    assert [r["id"] for r in resumed.records(again)] == [9]


def test_time_export_fails_loudly_when_end_time_stops_advancing():
    paginator = _time_export()
    stuck = _time_page([(1, 100), (2, 100), (3, 100)], end_time=100)

    with pytest.raises(StuckExport, match=r"stuck at 1970-01-01T00:01:40Z \(end_time 100\)") as exc:
        paginator.advance(stuck)
    assert (exc.value.second, exc.value.count) == (100, 3)


def test_time_export_without_end_of_stream_ends_on_a_short_page():
    paginator = _time_export()
    body = _time_page([(1, 100)], end_time=100)
    del body["end_of_stream"]

    paginator.advance(body)

    assert paginator.finished


# Cursor pagination of list endpoints ---------------------------------------------------------


def test_cursor_pages_follow_meta_after_cursor():
    paginator = CursorPages("organizations", page_size=100)
    assert paginator.params() == {"page[size]": 100}

    paginator.advance(page("organizations_cbp_page"))

    assert paginator.params() == {
        "page[size]": 100,
        "page[after]": "eyJvIjoiaWQiLCJ2IjoiYVJxZ3IraWFCUUFBIn0=",
    }


def test_cursor_pages_stop_on_has_more_even_though_links_next_is_set():
    paginator = CursorPages("groups")
    last = page("groups_cbp_last_page")
    assert last["links"]["next"]

    paginator.advance(last)

    assert paginator.finished


# Offset pagination ---------------------------------------------------------------------------


def test_offset_pages_follow_next_page_until_null():
    paginator = OffsetPages("organizations")
    paginator.advance(page("organizations_offset_page"))
    assert paginator.params() == {"page": 2, "per_page": 100}

    paginator.advance(page("tags_offset_single_page"))

    assert paginator.finished


def test_offset_pages_refuse_a_next_page_that_goes_backwards():
    paginator = OffsetPages("tags")
    paginator.page = 3
    with pytest.raises(UnexpectedResponse, match="does not point at a later page"):
        paginator.advance({"tags": [], "next_page": "https://x.zendesk.com/api/v2/tags?page=2"})


def test_an_export_page_size_halves_to_a_floor_and_grows_back_to_what_was_configured():
    from tap_zendesk.api.pagination import MIN_SHRUNK_PAGE_SIZE, TimeExport

    paginator = TimeExport("tickets", start_time=0, page_size=1000, timestamp_of=lambda r: 0)
    sizes = []
    while paginator.shrink():
        sizes.append(paginator.params()["per_page"])
    assert sizes == [500, 250, 125, 62, 31, MIN_SHRUNK_PAGE_SIZE]
    for _ in range(10):
        paginator.regrow()
    assert paginator.params()["per_page"] == 1000
