"""The only module that names singer-sdk internals.

The SDK keeps a few things the tap needs private; here each gets a public name, so the rest of
the tap reads as plain SDK use:
- RECORD messages without the SDK's two walks over every value (`_generate_record_messages`);
- writing another stream's SCHEMA and RECORD from inside this stream's read, for records that
  arrive side-loaded or derived (`_write_schema_message`, `_write_record_message`);
- STATE after every page, not only at the SDK's checkpoints (`_write_state_message`,
  `state_manager.is_flushed`);
- the stream's tap (`_tap`) and the version of a versioned stream (`_stream_version`);
- the tap's own config checks ahead of the SDK's (`_validate_config`) and a resumable STATE on
  a signal (`_handle_termination`);
- `helpers._catalog.pop_deselected_record_properties` and `helpers._util.utc_now`.

tests/unit/test_sdk_private.py pins each of them, so an SDK upgrade that changes one fails in
CI instead of changing the tap's behaviour silently, and fails if another module names one.
"""

from __future__ import annotations

import typing as t

from singer_sdk import Stream, Tap
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.helpers._util import utc_now
from typing_extensions import override

if t.TYPE_CHECKING:
    from types import FrameType

    from singer_sdk.singerlib import RecordMessage

__all__ = ["SdkStream", "SdkTap", "drop_deselected", "utc_now"]


class SdkStream(Stream):
    """singer-sdk's Stream, its private parts behind public names."""

    @property
    def tap(self) -> Tap:
        """The tap this stream belongs to, which owns the run's shared objects."""
        return self._tap

    @property
    def stream_version(self) -> int | None:
        """The version RECORD messages carry when ACTIVATE_VERSION is in use."""
        return self._stream_version

    _schema_sent = False

    def write_schema_once(self) -> None:
        """This stream's SCHEMA, unless it went out already (a fed stream's first record)."""
        if not self._schema_sent:
            self._write_schema_message()
            self._schema_sent = True

    def write_record(self, record: dict[str, t.Any]) -> None:
        """One RECORD of this stream, outside the SDK's own loop over `get_records`."""
        self._write_record_message(record)

    def write_state(self) -> None:
        """A STATE message now, with every stream's bookmarks as they stand."""
        self.state_manager.is_flushed = False
        self._write_state_message()

    @override
    def _generate_record_messages(self, record: dict[str, t.Any]) -> t.Iterator[RecordMessage]:
        return self.record_messages(record)

    def record_messages(self, record: dict[str, t.Any]) -> t.Iterator[RecordMessage]:
        """The RECORD messages of one record (one per stream map)."""
        return super()._generate_record_messages(record)


def drop_deselected(record: dict[str, t.Any], schema: dict[str, t.Any], mask: t.Any) -> None:
    """Remove the properties the catalog deselects, at any depth, in place."""
    pop_deselected_record_properties(record, schema, mask)


class SdkTap(Tap):
    """singer-sdk's Tap with public hooks where the SDK has only private ones."""

    def check_config(self) -> None:
        """Raise ConfigValidationError naming each setting to fix, before the SDK's checks."""

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM or SIGINT arrived: by default, what the SDK does."""
        super()._handle_termination(signum, frame)

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        try:
            self.check_config()
        except ConfigValidationError as exc:
            if raise_errors:
                raise
            return exc.errors
        return super()._validate_config(raise_errors=raise_errors)

    @override
    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        self.on_signal(signum, frame)
