"""Objects a tap run shares across its streams and worker threads (rate governor, run
report, OAuth tokens, field definitions): one of each per tap, made on first use."""

from __future__ import annotations

import threading
import typing as t
import weakref

_T = t.TypeVar("_T")

_SHARED: weakref.WeakKeyDictionary[object, dict[str, t.Any]] = weakref.WeakKeyDictionary()
_LOCK = threading.RLock()


def per_tap(owner: object, key: str, make: t.Callable[[], _T]) -> _T:
    """The `key` object of `owner` (the tap), made by `make` the first time it is asked for."""
    with _LOCK:
        shared = _SHARED.setdefault(owner, {})
        if key not in shared:
            shared[key] = make()
        return t.cast("_T", shared[key])
