"""How the tap behaves as a command: every failure a user can cause or meet ends with one
line that says what to fix, and a stop by signal ends with a STATE to resume from.

`GuardedTap` wraps the SDK's command-line entry points (config, state and catalog files,
--discover, --test, the sync) and its signal handler; `TapZendesk` inherits it.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import typing as t

import click
from singer_sdk.singerlib import StateMessage
from singer_sdk.singerlib.catalog import MetadataMapping
from typing_extensions import override

from tap_zendesk.api.errors import ZendeskError
from tap_zendesk.sdk_private import SdkTap
from tap_zendesk.state import state_problems
from tap_zendesk.streams import stream_classes

if t.TYPE_CHECKING:
    from types import FrameType

    from tap_zendesk.report import RunReport


class GuardedTap(SdkTap):
    """A Tap whose command line fails with one line and stops with a resumable STATE."""

    # The run's progress lines and summary (TapZendesk.report).
    report: RunReport

    @classmethod
    @override
    def cb_config(cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]) -> t.Any:
        """Read --config files; one that is not JSON is a usage error, not a traceback."""
        try:
            return super().cb_config(ctx, param, value)
        except ValueError as exc:
            reason = getattr(exc, "msg", str(exc))
            where = f"line {exc.lineno} column {exc.colno}" if hasattr(exc, "lineno") else ""
            msg = f"the config file is not valid JSON ({reason} at {where}): fix or recreate it"
            raise click.BadParameter(msg, ctx=ctx, param=param) from None

    @classmethod
    @override
    def invoke(cls, *args: t.Any, **kwargs: t.Any) -> None:
        """Run the CLI; a Zendesk failure or a bad state or catalog ends it with one line."""
        with one_line_failures(cls.logger):
            warn = cls.logger.warning
            checks = (
                ("state", lambda state, _: state_problems(state)),
                ("catalog", lambda catalog, config: catalog_problems(catalog, config, warn)),
            )
            for option, check in checks:
                if kwargs.get(option) is not None:
                    kwargs[option] = checked_file(option, kwargs[option], check, kwargs)
            super().invoke(*args, **kwargs)

    @classmethod
    @override
    def cb_discover(cls, ctx: click.Context, param: click.Option, value: bool) -> None:
        """--discover reads field definitions from Zendesk: a failure there is one line too."""
        with one_line_failures(cls.logger):
            super().cb_discover(ctx, param, value)

    @classmethod
    @override
    def cb_test(cls, ctx: click.Context, param: click.Option, value: str) -> None:
        """--test reads from Zendesk: a failure there (a bad token) is one line too."""
        with one_line_failures(cls.logger):
            super().cb_test(ctx, param, value)

    @override
    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        # SIGTERM and Ctrl-C: end with a STATE (written even if unchanged, so it follows the
        # last RECORD) that is safe to resume from, since bookmarks only move after whole
        # pages; never in the middle of a message being written; then leave at once instead
        # of waiting for requests in flight on worker threads.
        def stop() -> None:
            self.message_writer.write_message(StateMessage(value=self.state))
            self.logger.warning("Stopped by signal %d; resume from the last STATE", signum)
            for line in self.report.lines():
                self.logger.info(line)
            logging.shutdown()
            os._exit(128 + signum)

        self.message_writer.when_idle(stop)


@contextlib.contextmanager
def one_line_failures(logger: logging.Logger) -> t.Iterator[None]:
    """End the process with a ZendeskError's one line and exit 1; its traceback at DEBUG."""
    try:
        yield
    except ZendeskError as exc:
        logger.debug("Traceback of the failure below", exc_info=True)
        logger.error("%s", exc)
        raise SystemExit(1) from None


def checked_file(
    option: str,
    file: t.IO[str],
    check: t.Callable[[t.Any, t.Mapping[str, t.Any]], list[str]],
    cli: t.Mapping[str, t.Any],
) -> t.IO[str]:
    """Parse a --state or --catalog file up front; refuse it with the reason if it is bad."""
    text = file.read()
    try:
        value = json.loads(text)
    except ValueError as exc:
        msg = f"the {option} file is not valid JSON ({exc}): fix it or leave --{option} out"
        raise ZendeskError(msg) from None
    config = cli["config"].config if cli.get("config") is not None else {}
    if problems := check(value, config):
        raise ZendeskError(f"the {option} file cannot be used: {problems[0]}")
    return io.StringIO(text)


def catalog_problems(
    catalog: t.Any,
    config: t.Mapping[str, t.Any],
    warn: t.Callable[[str], None] | None = None,
) -> list[str]:
    """A catalog must be an object whose selected streams are ones this config defines.

    A deselected stream the config does not define (a `search_<name>` of an earlier config) is
    harmless, so it only gets a warning through `warn`; a selected one would silently extract
    nothing, so it is refused.
    """
    entries = catalog.get("streams") if isinstance(catalog, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        return ["it must be an object with a list of streams, as --discover writes it"]
    known = {stream_class.name for stream_class in stream_classes(config)}
    unknown = [e for e in entries if str(e.get("tap_stream_id")) not in known]
    selected = sorted(str(e.get("tap_stream_id")) for e in unknown if _selected(e))
    if selected:
        return [
            f"it selects streams this config does not define: {', '.join(selected)}; "
            "deselect them, add their search_queries back, or run --discover"
        ]
    if unknown and warn is not None:
        names = ", ".join(sorted(str(e.get("tap_stream_id")) for e in unknown))
        warn(f"The catalog names streams this config does not define, all deselected: {names}")
    return []


def _selected(entry: dict[str, t.Any]) -> bool:
    """Whether the SDK would sync a catalog entry, by its own selection rules (an entry
    without metadata counts as selected); unreadable metadata counts as selected too."""
    try:
        return MetadataMapping.from_iterable(entry.get("metadata") or []).resolve_selection()[()]
    except (AttributeError, KeyError, TypeError, ValueError):
        return True
