"""Singer output: msgspec encoding, flushed at STATE (and other control) messages only.

Flushing every RECORD costs a system call per record. Holding RECORDs in the buffer until the
next STATE is safe: a STATE never reaches the target before the records it covers, and
records lost with a killed process were not bookmarked, so they are read again on resume.
"""

from __future__ import annotations

import sys

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib.encoding.simple import Message, RecordMessage


class BufferedWriter(MsgSpecWriter):
    """Writes each message to stdout's buffer; flushes on everything but RECORD."""

    def write_message(self, message: Message) -> None:
        """Write one message; RECORDs wait in the buffer for the next STATE."""
        sys.stdout.buffer.write(self.format_message(message))
        if not isinstance(message, RecordMessage):
            sys.stdout.flush()
