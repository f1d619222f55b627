"""TapZendesk: the settings it accepts and the streams it offers (its command-line behaviour
is in cli.py)."""

from __future__ import annotations

import typing as t

from singer_sdk import Stream, Tap
from singer_sdk.helpers.capabilities import CapabilitiesEnum, PluginCapabilities

from tap_zendesk import DISTRIBUTION
from tap_zendesk.cli import GuardedTap
from tap_zendesk.options import config_jsonschema as options_jsonschema
from tap_zendesk.output import BufferedWriter
from tap_zendesk.streams import stream_classes
from tap_zendesk.streams.incremental import IncrementalExportStream

if t.TYPE_CHECKING:
    pass


class TapZendesk(GuardedTap):
    """Singer tap for Zendesk Support: incremental, resumable and paced to Zendesk's limits."""

    name = "tap-zendesk"
    package_name = DISTRIBUTION
    message_writer_class = BufferedWriter
    # The SDK's capabilities but batch: in batch mode a page's STATE goes out before the BATCH
    # message holding its records, so a run killed in between would resume past them.
    capabilities: t.ClassVar[list[CapabilitiesEnum]] = [
        capability for capability in Tap.capabilities if capability != PluginCapabilities.BATCH
    ]

    config_jsonschema = options_jsonschema()

    def discover_streams(self) -> list[Stream]:
        """Every stream this tap offers."""
        return [stream_class(tap=self) for stream_class in stream_classes(self.config)]

    # True during a whole sync, when reading lists ahead of their turn pays (prefetch.py);
    # not when one stream is read alone.
    syncing_all = False

    def sync_all(self) -> None:
        """Sync every selected stream, the account lists read while the exports wait."""
        self.syncing_all = True
        try:
            super().sync_all()
        finally:
            self.syncing_all = False

    def load_streams(self) -> list[Stream]:
        """The streams in the order they sync: the incremental exports first, then the rest.

        The SDK orders them by name. The exports bind a sync's time (their budget is the
        account's 10 requests a minute); while they wait for it, the account lists are read in
        the background (prefetch.py), so the lists cost nothing after them. By name, most lists
        would come before the first export, and their time would add to the exports'.
        """
        order = {cls.name: index for index, cls in enumerate(stream_classes(self.config))}
        return sorted(
            super().load_streams(),
            key=lambda stream: (
                not isinstance(stream, IncrementalExportStream),
                order.get(stream.name, len(order)),
            ),
        )


if __name__ == "__main__":
    TapZendesk.cli()
