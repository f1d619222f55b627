"""RecordStream: a stream as the SDK emits it, and the one path every record takes.

Every record, whichever way it arrives (its own page, fed from another stream's response,
side-loaded, searched), passes `kept` (exclude_deleted, tallies) and then `record_messages`
(legacy shape, deselection, stream maps). The run's shared objects, owned by the tap, are
reached from here too (`run`).
"""

from __future__ import annotations

import typing as t
from functools import cached_property

from singer_sdk.singerlib import RecordMessage
from typing_extensions import override

from tap_zendesk.legacy import LAYOUTS, LegacyLayout
from tap_zendesk.sdk_private import SdkStream, drop_deselected, utc_now

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_zendesk.api.pagination import Record
    from tap_zendesk.api.requester import Requester
    from tap_zendesk.config.settings import Settings
    from tap_zendesk.report import RunReport, StreamTally
    from tap_zendesk.streams.lists import ListReads


class Run(t.Protocol):
    """What streams use of the run's shared objects, which the tap owns (TapZendesk)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def report(self) -> RunReport: ...
    @property
    def requester(self) -> Requester: ...
    @property
    def list_reads(self) -> ListReads: ...
    @property
    def field_definitions(self) -> dict[str, list[Record] | None]: ...
    @property
    def exports_read(self) -> set[str]: ...
    @property
    def syncing_all(self) -> bool: ...


class RecordStream(SdkStream):
    """A stream's run, schema and record path; ZendeskStream adds the reading."""

    # Streams with no request of their own name the stream whose responses carry their
    # records (side-loads, attachments of comments); that stream emits them via `feed`.
    fed_by: t.ClassVar[str | None] = None

    # The run's shared objects, owned by the tap --------------------------------------------

    @property
    def run(self) -> Run:
        """The run's shared objects: the tap's."""
        return t.cast("Run", self.tap)

    @property
    def settings(self) -> Settings:
        """The run's validated config."""
        return self.run.settings

    @property
    def report(self) -> RunReport:
        """The run's progress lines and its summary of 429s, waits and skips."""
        return self.run.report

    @cached_property
    def tally(self) -> StreamTally:
        """This stream's counts for the progress lines and the summary."""
        return self.report.tally(self.name)

    @property
    @override
    def emit_activate_version_messages(self) -> bool:
        """Only a stream read whole in every run may have the target replace its table: a fed
        stream's rows come with the increments of the stream that feeds it."""
        return self.fed_by is None and super().emit_activate_version_messages

    # Schema ---------------------------------------------------------------------------------

    def configure_schema(self, schema: dict[str, t.Any]) -> dict[str, t.Any]:
        """This stream's schema for the config in use; `schema` is a private copy to edit.

        With legacy_schema it is the incumbent tap's layout; hooks of subclasses run after.
        """
        return self.legacy.schema(schema) if self.legacy is not None else schema

    @cached_property
    def legacy(self) -> LegacyLayout | None:
        """The incumbent tap's layout of this stream, when legacy_schema asks for it."""
        return LAYOUTS.get(self.name) if self.settings.legacy_schema else None

    @cached_property
    def _legacy_shape(self) -> t.Callable[[Record], Record]:
        """Gives records the legacy schema's shape (see tap_zendesk/legacy)."""
        assert self.legacy is not None
        return self.legacy.record_shaper(self.schema, self.name, self.logger)

    # The record path ------------------------------------------------------------------------

    def kept(self, records: t.Iterable[Record]) -> t.Iterator[Record]:
        """The records this stream emits, counted: with exclude_deleted, not its deleted ones."""
        exclude = self.settings.exclude_deleted
        tally = self.tally
        for record in records:
            if exclude and self.is_deleted(record):
                continue
            tally.records += 1
            yield record

    def is_deleted(self, record: Record) -> bool:
        """Whether a record is a deleted row, left out when exclude_deleted is set."""
        return False

    def feed(self, stream_name: str, records: t.Iterable[Record]) -> None:
        """Emit records of another stream that arrived in this stream's responses, when that
        stream exists and is selected, through its own record path; its SCHEMA goes out
        before its first record."""
        stream = self.tap.streams.get(stream_name)
        if not isinstance(stream, RecordStream) or not stream.selected:
            return
        for received in stream.kept(records):
            record = stream.post_process(received, None)
            if record is not None:
                stream.write_schema_once()
                stream.write_record(record)

    @override
    def record_messages(self, record: Record) -> t.Iterator[RecordMessage]:
        """The SDK's RECORD messages without its two walks over every value of every record.

        Profiled, those walks (type conformance and the deselected-property pass) were about
        two thirds of the tap's CPU. Zendesk's JSON already has the schema's types, so only the
        top-level keys that are deselected or not in the schema are dropped, with a set lookup.
        """
        if self.legacy is not None:
            record = self._legacy_shape(record)
        if self._nested_deselection:
            drop_deselected(record, self.schema, self.mask)
        keep = self._emitted_properties
        if not record.keys() <= keep:
            unknown = record.keys() - self.schema["properties"].keys()
            if unknown and not self._warned_unknown:
                self._warned_unknown = True
                self.logger.warning(
                    "%s: dropping properties not in the schema: %s", self.name, sorted(unknown)
                )
            record = {key: value for key, value in record.items() if key in keep}
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self.stream_version,
                    time_extracted=utc_now(),
                )

    @cached_property
    def _emitted_properties(self) -> frozenset[str]:
        """Top-level properties that are in the schema and selected."""
        return frozenset(
            name for name in self.schema["properties"] if self.mask.get(("properties", name), True)
        )

    @cached_property
    def _nested_deselection(self) -> bool:
        """Whether the catalog deselects a nested property (then the SDK's walk is needed)."""
        return any(len(crumb) > 2 and not selected for crumb, selected in self.mask.items())

    _warned_unknown = False

    # Streams fed by this one -----------------------------------------------------------------

    @property
    @override
    def has_selected_descendents(self) -> bool:
        """Also true when a stream fed from this one is selected: this one must then run."""
        return super().has_selected_descendents or any(
            stream.selected for stream in self.fed_streams().values()
        )

    def fed_streams(self) -> dict[str, RecordStream]:
        """The tap's streams whose records this stream's responses carry."""
        return {
            name: stream
            for name, stream in self.tap.streams.items()
            if isinstance(stream, RecordStream) and stream.fed_by == self.name
        }

    def resume_state(self, context: Context | None) -> dict[str, t.Any]:
        """Where this stream keeps its resume point.

        Its own state, except when it runs only to feed other streams: then the first
        selected fed stream's, so its own bookmark never moves past records it did not emit
        (selecting it later still reads them all).
        """
        if not self.selected:
            for stream in self.fed_streams().values():
                if stream.selected:
                    return stream.get_context_state(context)
        return self.get_context_state(context)
