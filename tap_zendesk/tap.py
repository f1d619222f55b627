"""TapZendesk: the settings it accepts and the streams it offers (its command-line behaviour
is in cli.py)."""

from __future__ import annotations

import typing as t
from functools import cached_property

from singer_sdk import Stream, Tap
from singer_sdk.helpers.capabilities import CapabilitiesEnum, PluginCapabilities
from typing_extensions import override

from tap_zendesk import DISTRIBUTION
from tap_zendesk.api.oauth import OAuthTokens
from tap_zendesk.api.ratelimit import ACCOUNT, EXPORT, SEARCH, RateGovernor
from tap_zendesk.api.requester import Requester
from tap_zendesk.cli import GuardedTap
from tap_zendesk.config.options import config_jsonschema as options_jsonschema
from tap_zendesk.config.settings import Settings
from tap_zendesk.login import describe_user
from tap_zendesk.output import BufferedWriter
from tap_zendesk.report import RunReport
from tap_zendesk.streams import stream_classes
from tap_zendesk.streams.base import ZendeskStream
from tap_zendesk.streams.incremental import IncrementalExportStream
from tap_zendesk.streams.lists import ListReads


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

    # The run's shared objects: one of each per tap, made on first use ---------------------

    @cached_property
    def settings(self) -> Settings:
        """The validated config, built once per run (by `check_config`)."""
        return Settings.from_config(self.config)

    @override
    def check_config(self) -> None:
        """Build the settings before the SDK checks the config: their errors name the setting
        and say what to put there."""
        self.settings  # noqa: B018 (building them is the check)

    @cached_property
    def report(self) -> RunReport:
        """The run's progress lines, and its summary of 429s, waits and skips at exit."""
        return RunReport.for_run(self.logger, self.settings.progress_interval)

    @cached_property
    def governor(self) -> RateGovernor:
        """The rate budgets every stream and worker of the run draws on."""
        governor = RateGovernor(
            {
                ACCOUNT: self.settings.rate_limit_per_minute,
                EXPORT: self.settings.export_rate_limit_per_minute,
                SEARCH: None,
            },
            window=self.settings.rate_limit_window_seconds,
        )
        self.report.governor = governor
        return governor

    @cached_property
    def oauth(self) -> OAuthTokens | None:
        """The run's OAuth tokens, renewed before they expire, when auth_method uses OAuth."""
        if self.settings.auth_method not in ("oauth", "client_credentials"):
            return None
        return OAuthTokens(self.settings, self.logger)

    @cached_property
    def requester(self) -> Requester:
        """The run's request engine (api/requester.py)."""
        return Requester(self.settings, self.governor, self.logger, oauth=self.oauth)

    @cached_property
    def list_reads(self) -> ListReads:
        """The selected account lists, read ahead while the exports wait (lists.py)."""
        return ListReads(
            [s for s in self.streams.values() if isinstance(s, ZendeskStream) and s.reads_a_list]
        )

    @cached_property
    def field_definitions(self) -> dict[str, list[dict[str, t.Any]] | None]:
        """Custom field definitions by endpoint, read once per run (custom_fields)."""
        return {}

    @cached_property
    def exports_read(self) -> set[str]:
        """Exports already read in this run for every stream they feed (ticket events)."""
        return set()

    @override
    def run_connection_test(self) -> bool:
        """Say which credential worked and whose it is, then read a record of each stream."""
        stream = next(s for s in self.streams.values() if isinstance(s, ZendeskStream))
        user = stream.current_user()
        method = self.oauth.method if self.oauth is not None else self.settings.auth_method
        self.logger.info(
            "Connection test: %s accepted %s, authenticated as %s",
            self.settings.base_url,
            method,
            describe_user(user),
        )
        return super().run_connection_test()

    # Streams ------------------------------------------------------------------------------

    @override
    def discover_streams(self) -> list[Stream]:
        """Every stream this tap offers."""
        return [stream_class(tap=self) for stream_class in stream_classes(self.config)]

    # True during a whole sync, when reading lists ahead of their turn pays (streams/lists.py);
    # not when one stream is read alone.
    syncing_all = False

    @override
    def sync_all(self) -> None:
        """Sync every selected stream, the account lists read while the exports wait."""
        self.syncing_all = True
        try:
            super().sync_all()
        finally:
            self.syncing_all = False

    @override
    def load_streams(self) -> list[Stream]:
        """The streams in the order they sync: the incremental exports first, then the rest.

        The SDK orders them by name. The exports bind a sync's time (their budget is the
        account's 10 requests a minute); while they wait for it, the account lists are read in
        the background (streams/lists.py), so the lists cost nothing after them. By name, most lists
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
