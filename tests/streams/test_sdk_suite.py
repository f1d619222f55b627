"""The singer-sdk's own tap tests, run against the emulator over real sockets."""

from __future__ import annotations

import atexit

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_zendesk.tap import TapZendesk
from tests.emulator import Emulator
from tests.support.tap import config_for

# The SDK lists streams and builds its tests at collection time, so the emulator starts here.
EMULATOR = Emulator(tickets=120, users=40, organizations=20, seed=3).start()
atexit.register(EMULATOR.stop)

TestTapZendesk = get_tap_test_class(
    TapZendesk,
    config=config_for(EMULATOR, page_size=25),
    parse_env_config=False,
    suite_config=SuiteConfig(max_records_limit=60),
)
