"""Singer output: msgspec encoding, flushed at STATE (and other control) messages only.

Flushing every RECORD costs a system call per record. Holding RECORDs in the buffer until the
next STATE is safe: a STATE never reaches the target before the records it covers, and
records lost with a killed process were not bookmarked, so they are read again on resume.
"""

from __future__ import annotations

import sys
import typing as t

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib.encoding.simple import Message, RecordMessage


class BufferedWriter(MsgSpecWriter):
    """Writes each message to stdout's buffer; flushes on everything but RECORD.

    A signal handler must not write while a message is half written (a slow target can keep
    the tap blocked inside a write): it asks `when_idle` to run its final words afterwards.
    """

    def __init__(self) -> None:
        super().__init__()
        self.writing = False
        self._after_write: t.Callable[[], None] | None = None

    def write_message(self, message: Message) -> None:
        """Write one message; RECORDs wait in the buffer for the next STATE."""
        self.writing = True
        try:
            sys.stdout.buffer.write(self.format_message(message))
            if not isinstance(message, RecordMessage):
                sys.stdout.flush()
        finally:
            self.writing = False
        if self._after_write is not None:
            action, self._after_write = self._after_write, None
            action()

    def when_idle(self, action: t.Callable[[], None]) -> None:
        """Run `action` now, or as soon as the message being written is complete."""
        if self.writing:
            self._after_write = action
        else:
            action()
