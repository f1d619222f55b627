"""tap-zendesk: a Singer tap for Zendesk Support, built on singer-sdk."""

from importlib import metadata

DISTRIBUTION = "tap-zendesk-upsert"

try:
    __version__ = metadata.version(DISTRIBUTION)
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
