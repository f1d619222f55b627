"""The singer-sdk internals the tap relies on, pinned: an SDK upgrade that changes one fails
here, not silently in a user's load. And no module but tap_zendesk/sdk_private.py names one."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest
import singer_sdk
from singer_sdk import Stream, Tap
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.helpers._util import utc_now
from singer_sdk.singerlib import RecordMessage, SchemaMessage, StateMessage

import tap_zendesk
from tap_zendesk.tap import TapZendesk
from tests.support.recorded import MOCKED_ACCOUNT

PACKAGE = Path(tap_zendesk.__file__).parent
SDK_PRIVATE = PACKAGE / "sdk_private.py"

# Each private callable the tap uses, with its parameters as the tap calls them.
PINNED_SIGNATURES = {
    (Stream, "_generate_record_messages"): "(self, record)",
    (Stream, "_write_schema_message"): "(self)",
    (Stream, "_write_record_message"): "(self, record)",
    (Stream, "_write_state_message"): "(self)",
    (Tap, "_validate_config"): "(self, *, raise_errors=True)",
    (Tap, "_handle_termination"): "(self, signum, frame)",
    (None, "pop_deselected_record_properties"): "(record, schema, mask, breadcrumb=())",
    (None, "utc_now"): "()",
}
FUNCTIONS = {
    "pop_deselected_record_properties": pop_deselected_record_properties,
    "utc_now": utc_now,
}


def _parameters(function: object) -> str:
    signature = inspect.signature(function)
    bare = [p.replace(annotation=p.empty) for p in signature.parameters.values()]
    return str(signature.replace(parameters=bare, return_annotation=signature.empty))


@pytest.mark.parametrize(
    ("owner", "name"), list(PINNED_SIGNATURES), ids=[name for _, name in PINNED_SIGNATURES]
)
def test_each_private_sdk_callable_keeps_its_parameters(owner, name):
    function = FUNCTIONS[name] if owner is None else getattr(owner, name)
    assert _parameters(function) == PINNED_SIGNATURES[owner, name]


@pytest.fixture
def groups(monkeypatch):
    tap = TapZendesk(config=MOCKED_ACCOUNT, parse_env_config=False)
    written: list[object] = []
    monkeypatch.setattr(tap, "write_message", written.append)
    monkeypatch.setattr(tap.message_writer, "write_message", written.append)
    return tap.streams["groups"], written


def test_a_stream_knows_its_tap_and_has_no_version_unless_activated(groups):
    stream, _ = groups
    assert isinstance(stream.tap, TapZendesk)
    assert stream.stream_version is None


def test_a_record_written_outside_the_sdk_loop_goes_through_the_tap_record_path(groups):
    stream, written = groups
    stream.write_record({"id": 1, "name": "Support", "not_in_schema": True})

    [message] = written
    assert isinstance(message, RecordMessage)
    # record_messages (ours) dropped the unknown key: the SDK still routes through it.
    assert message.record == {"id": 1, "name": "Support"}


def test_a_fed_stream_schema_goes_out_once_and_state_after_every_bookmark(groups):
    stream, written = groups
    stream.write_schema_once()
    stream.write_schema_once()
    for page in (1, 2):
        stream.get_context_state(None)["pages"] = page
        stream.write_state()

    kinds = [type(message) for message in written]
    assert kinds == [SchemaMessage, StateMessage, StateMessage]


def test_the_tap_config_checks_run_before_the_sdk_ones():
    with pytest.raises(ConfigValidationError) as refused:
        TapZendesk(config={"url": "acme", "start_date": "2024-01-01"}, parse_env_config=False)
    assert any("api_token" in error for error in refused.value.errors)


def test_a_signal_reaches_the_tap_on_signal_hook(monkeypatch):
    tap = TapZendesk(config=MOCKED_ACCOUNT, parse_env_config=False)
    received: list[int] = []
    monkeypatch.setattr(tap, "on_signal", lambda signum, frame: received.append(signum))
    tap._handle_termination(15, None)
    assert received == [15]


def _names_defined(files: list[Path]) -> set[str]:
    found: set[str] = set()
    pattern = re.compile(r"def (_\w+)|self\.(_\w+)\s*[:=]|^\s*(_\w+)\s*[:=]", re.MULTILINE)
    for file in files:
        for match in pattern.finditer(file.read_text(encoding="utf-8")):
            found.add(next(group for group in match.groups() if group))
    return found


def test_no_module_but_sdk_private_names_a_singer_sdk_internal():
    modules = [path for path in PACKAGE.rglob("*.py") if path != SDK_PRIVATE]
    sdk_names = _names_defined(list(Path(singer_sdk.__file__).parent.rglob("*.py")))
    ours = _names_defined(modules)
    offences = []
    for path in modules:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            module = getattr(node, "module", None) or ""
            if module.startswith("singer_sdk") and "._" in module:
                offences.append(f"{path.name}: imports {module}")
            name = getattr(node, "attr", None) or getattr(node, "name", None)
            private = isinstance(name, str) and name.startswith("_") and not name.startswith("__")
            if private and name in sdk_names and name not in ours:
                offences.append(f"{path.name}:{node.lineno}: {name}")
    assert offences == []


def _own_classes() -> list[type]:
    classes = []
    for info in pkgutil.walk_packages(tap_zendesk.__path__, "tap_zendesk."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        classes += [
            value
            for value in vars(module).values()
            if inspect.isclass(value) and value.__module__ == module.__name__
        ]
    return classes


def _function(member: object) -> object:
    if isinstance(member, property):
        return member.fget
    if isinstance(member, (staticmethod, classmethod)):
        return member.__func__
    return getattr(member, "func", member)  # a cached_property's function


def test_every_override_is_marked_as_one():
    unmarked = [
        f"{cls.__module__}.{cls.__name__}.{name}"
        for cls in _own_classes()
        for name, member in vars(cls).items()
        if not name.startswith("__")
        and hasattr(_function(member), "__code__")
        and any(name in vars(base) for base in cls.__mro__[1:] if base is not object)
        and not getattr(_function(member), "__override__", False)
    ]
    assert unmarked == []
