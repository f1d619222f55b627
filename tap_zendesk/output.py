"""Singer output: msgspec encoding, flushed at STATE (and other control) messages only.

Flushing every RECORD costs a system call per record. Holding RECORDs in the buffer until the
next STATE is safe: a STATE never reaches the target before the records it covers, and
records lost with a killed process were not bookmarked, so they are read again on resume.
"""

from __future__ import annotations

import atexit
import io
import sys
import typing as t

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib.encoding.simple import Message, RecordMessage
from typing_extensions import override


class BufferedWriter(MsgSpecWriter):
    """Writes each message to stdout's buffer; flushes on everything but RECORD.

    A signal handler must not write while a message is half written (a slow target can keep
    the tap blocked inside a write): it asks `when_idle` to run its final words afterwards.
    """

    def __init__(self) -> None:
        super().__init__()
        self.writing = False
        self._after_write: t.Callable[[], None] | None = None
        self._out = _stdout_buffer()

    @override
    def write_message(self, message: Message) -> None:
        """Write one message; RECORDs wait in the buffer for the next STATE."""
        self.writing = True
        try:
            self._out.write(self.format_message(message))
            if not isinstance(message, RecordMessage):
                self._out.flush()
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


# A page of tickets is several hundred kilobytes: with stdout's 8 KiB buffer most records
# would each cost a write system call after all.
STDOUT_BUFFER_BYTES = 1 << 20


def _stdout_buffer() -> t.BinaryIO:
    """A large buffer on stdout's file descriptor; stdout's own where it has none (captured)."""
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        return sys.stdout.buffer
    sys.stdout.flush()
    out = open(descriptor, "wb", buffering=STDOUT_BUFFER_BYTES, closefd=False)  # noqa: SIM115
    # Records written after the last STATE were not bookmarked; written out at exit all the same.
    atexit.register(_flush_quietly, out)
    return out


def _flush_quietly(out: t.BinaryIO) -> None:
    try:
        out.flush()
    except (OSError, ValueError):  # the target went away: nothing more can reach it
        return
