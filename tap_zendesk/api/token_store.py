"""The on-disk OAuth token store: where it lives, and the file read, replaced atomically
(mode 600) and locked so that one run at a time spends a refresh token.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import typing as t
from pathlib import Path
from urllib.parse import urlsplit

from tap_zendesk.api.errors import AuthenticationFailed

if t.TYPE_CHECKING:
    from tap_zendesk.config.settings import Settings

LOGIN_HINT = "tap-zendesk auth login --config <your config file>"


class TokenStore:
    """The file that carries a refresh-token lineage from run to run.

    Holds the newest access and refresh token, their expiry times (epoch seconds), the
    client they belong to, `origin` (a hash naming the first refresh token of the lineage, so
    a freshly authorized token put in the config is told apart from an older one) and, while
    a refresh is in flight, `refreshing_since`.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, t.Any] | None:
        """The stored tokens; None when there is no store yet."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            msg = f"cannot read the OAuth token store {self.path} ({exc.strerror}): fix its access"
            raise AuthenticationFailed(msg) from None
        try:
            saved = json.loads(text)
        except ValueError:
            saved = None
        if not isinstance(saved, dict) or not isinstance(saved.get("refresh_token"), str):
            msg = (
                f"the OAuth token store {self.path} is not one this tap wrote: remove it and "
                f"authorize again with `{LOGIN_HINT}`"
            )
            raise AuthenticationFailed(msg)
        return saved

    def write(self, content: dict[str, t.Any]) -> None:
        """Replace the store in one step: a reader (or a crash) sees the old file or the new
        one, never a mixture; the data is on disk before the rename makes it the store."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor, partial = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            os.fchmod(descriptor, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                json.dump(content, file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(partial, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(partial)
            raise
        # The rename itself must survive a power cut too.
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    @contextlib.contextmanager
    def locked(self) -> t.Iterator[None]:
        """Hold the store's lock: one run at a time reads, refreshes and saves."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock = self.path.with_name(self.path.name + ".lock")
        descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # closing releases the lock


def token_store(settings: Settings) -> Path:
    """oauth_token_store, else a file per account under the user's config directory."""
    refresh = settings.oauth_refresh
    if refresh is not None and refresh.token_store:
        return Path(refresh.token_store).expanduser()
    return default_token_store(settings.base_url)


def default_token_store(base_url: str) -> Path:
    """~/.config/tap-zendesk/oauth-<host>.json (XDG_CONFIG_HOME when set)."""
    home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    host = urlsplit(base_url).netloc.replace(":", "_")
    return home / "tap-zendesk" / f"oauth-{host}.json"
