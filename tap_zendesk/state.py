"""Checking a state file before a run trusts it.

A state with the wrong shape would resume from the wrong place, or crash mid-run; it is
refused up front with a line saying which bookmark to fix or remove.
"""

from __future__ import annotations

import typing as t

# What each resume key must be; replication_key_value is an epoch or an ISO date-time.
_BOOKMARK_TYPES: dict[str, tuple[type, ...]] = {
    "cursor": (str,),
    "end_time": (int,),
    "boundary_ids": (list,),
    "position": (int,),
    "window_start": (int,),
    "window_done": (bool,),
    "replication_key_value": (int, str),
    "start_setting": (str,),
    "paging": (str,),
}


def state_problems(state: t.Any) -> list[str]:
    """Every reason `state` cannot be resumed from; empty when it is fine."""
    if not isinstance(state, dict):
        return ['the state must be a JSON object such as {"bookmarks": {...}}']
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, dict):
        return ["state.bookmarks must be an object with one entry per stream"]
    problems = []
    for stream, bookmark in bookmarks.items():
        problems += bookmark_problems(stream, bookmark)
    return problems


def bookmark_problems(stream: str, bookmark: t.Any) -> list[str]:
    """Why one stream's bookmark cannot be resumed from."""
    if not isinstance(bookmark, dict):
        return [f"state.bookmarks.{stream} must be an object: remove it to restart {stream}"]
    problems = []
    for key, types in _BOOKMARK_TYPES.items():
        value = bookmark.get(key)
        if value is not None and not _is_a(value, types):
            problems.append(
                f"state.bookmarks.{stream}.{key} is {value!r}, not a "
                f"{' or '.join(t.__name__ for t in types)}: remove it to restart {stream} "
                "from its other bookmarks"
            )
    return problems


def _is_a(value: object, types: tuple[type, ...]) -> bool:
    # JSON true/false load as bool, which Python counts as an int.
    return isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
