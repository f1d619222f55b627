"""A sync killed mid-way and rerun with its last STATE ends with every record."""

from __future__ import annotations

import json
import signal
import subprocess

from tests.support.tap import STREAMS, TAP, config_for

PAGE = 20


def _killed_run(config_path: str, after_states: int) -> list[dict]:
    """Start the tap, SIGKILL it once it has printed `after_states` STATE messages."""
    process = subprocess.Popen(
        [*TAP, "--config", config_path],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    messages, states = [], 0
    for line in process.stdout:
        messages.append(json.loads(line))
        states += messages[-1]["type"] == "STATE"
        if states == after_states:
            process.send_signal(signal.SIGKILL)
            break
    # Whatever the tap wrote before it died is still in the pipe: a target would get it too.
    messages += [json.loads(line) for line in process.stdout if line.strip()]
    process.wait()
    assert process.returncode == -signal.SIGKILL
    return messages


def test_rerun_after_sigkill_completes_every_stream(emulator, run_tap, tmp_path):
    config = config_for(emulator, page_size=PAGE)
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))

    killed = _killed_run(str(config_path), after_states=6)
    last_state = [m["value"] for m in killed if m["type"] == "STATE"][-1]
    rerun = run_tap(config, state=last_state)

    assert rerun.returncode == 0, rerun.stderr
    for stream in STREAMS:
        before = [m["record"]["id"] for m in killed if m.get("stream") == stream and "record" in m]
        after = rerun.ids(stream)
        assert set(before) | set(after) == set(emulator.dataset.ids(stream)), stream
        # Only the page in flight when the process died may come again.
        assert len(set(before) & set(after)) <= PAGE, stream


def test_records_after_the_last_state_are_at_most_one_page(emulator, tmp_path):
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config_for(emulator, page_size=PAGE)))

    killed = _killed_run(str(config_path), after_states=4)

    last_state_at = max(i for i, m in enumerate(killed) if m["type"] == "STATE")
    unbookmarked = [m["stream"] for m in killed[last_state_at:] if m["type"] == "RECORD"]
    # One page in flight: a page of a stream, with the records it feeds (a tickets page
    # carries its tickets' metrics).
    for stream in set(unbookmarked):
        assert unbookmarked.count(stream) <= PAGE, stream
