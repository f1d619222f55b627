"""The request engine: one GET of a Zendesk endpoint in, its parsed JSON out.

It knows no stream and no Singer message. Each request passes through layers, outermost first,
each with one concern (as httpx layers `send` -> auth -> redirects -> one request):

    `get`          transient failures and outages: retried with backoff or Retry-After until
                   max_retries / outage_limit_seconds; a page that keeps failing is asked for
                   smaller (`shrink`)
    `_paced`       429s: the bucket Zendesk names is held for Retry-After, then asked again
    `_authorized`  an expired OAuth access token: renewed once, the request sent again
    `_exchange`    one HTTP exchange: a slot of the rate budget, send, follow the rate headers,
                   map the status (statuses.py) and parse the body

Every failure comes out as an exception of api/errors.py whose message is the user's line.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
import threading
import time
import typing as t
from urllib.parse import urlsplit

import msgspec
import requests

from tap_zendesk import __version__
from tap_zendesk.api.auth import authenticator_for
from tap_zendesk.api.errors import AuthenticationFailed, RateLimited, TransientError, ZendeskError
from tap_zendesk.api.statuses import check_status
from tap_zendesk.config.settings import MAX_PARALLEL_REQUESTS, tls_verify

if t.TYPE_CHECKING:
    import logging

    from tap_zendesk.api.oauth import OAuthTokens
    from tap_zendesk.api.ratelimit import RateGovernor
    from tap_zendesk.config.settings import Settings

# 429s are Zendesk pacing us, not failing: keep waiting this long in total per request.
MAX_RATE_LIMIT_WAIT_SECONDS = 3600.0
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 60.0
# A 503 during maintenance says how long to stay away (Retry-After). Honoured up to this
# bound per attempt, so a bogus header cannot park the run for hours; each such attempt
# still counts against max_retries.
MAX_SERVER_RETRY_AFTER_SECONDS = 300.0
# Failures in a row of one page after which it is asked for in smaller pages.
SHRINK_AFTER_FAILURES = 2

_TRANSIENT = (
    TransientError,
    ConnectionResetError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class Tally(t.Protocol):
    """Where the engine counts what a caller's requests cost (report.StreamTally is one)."""

    requests: int
    throttled: int
    waited: float
    outage: tuple[float, str] | None


@dataclasses.dataclass
class Asker:
    """Who is asking: named in every message, charged with every request."""

    name: str
    tally: Tally
    # Said when Zendesk answers 403: what the user or account lacks for this data.
    forbidden_hint: str = "the user's role or the account's plan lacks access"
    # Called once per HTTP attempt, and with each response (the SDK's request metrics).
    on_request: t.Callable[[], None] | None = None
    on_response: t.Callable[[requests.Response], None] | None = None


class Requester:
    """The run's one request engine, shared by every stream and worker thread."""

    def __init__(
        self,
        settings: Settings,
        governor: RateGovernor,
        logger: logging.Logger,
        *,
        oauth: OAuthTokens | None = None,
        clock: t.Callable[[], float] = time.monotonic,
        sleep: t.Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.governor = governor
        self.logger = logger
        self.oauth = oauth
        self.auth = oauth.authenticator if oauth is not None else authenticator_for(settings)
        self.headers = {
            "Accept": "application/json",
            "User-Agent": settings.user_agent or f"tap-zendesk-upsert/{__version__}",
        }
        self.session = _session(settings)
        self._clock = clock
        self._sleep = sleep
        self._count_lock = threading.Lock()

    def get(
        self,
        path: str,
        params: t.Mapping[str, t.Any],
        asker: Asker,
        *,
        shrink: t.Callable[[], dict[str, t.Any] | None] | None = None,
        once: bool = False,
    ) -> t.Any:
        """The parsed JSON of `GET <api>/<path>?<params>`, through 429s and transient failures.

        `shrink` gives the query of a smaller page when the same page keeps failing, or None.
        `once`: no retry and no wait for a 429 (a read ahead of time that may as well fail).
        """
        query = dict(params)
        failures = 0
        failing_since: float | None = None
        while True:
            try:
                body = self._paced(path, query, asker, once=once)
                asker.tally.outage = None
                return body
            except requests.exceptions.SSLError as exc:
                # Not transient: an untrusted certificate stays untrusted on every retry.
                raise ZendeskError(self._untrusted(exc, asker)) from exc
            except _TRANSIENT as exc:
                if once:
                    raise
                failures += 1
                failing_since = failing_since or self._clock()
                if failures >= SHRINK_AFTER_FAILURES and shrink is not None and _heavy(exc):
                    smaller = shrink()
                    if smaller is not None:
                        # A new request with retries of its own; an outage, if any, goes on.
                        failures, query = 0, smaller
                failing_for = self._clock() - failing_since
                delay = self._retry_delay(exc, max(failures, 1), failing_for, asker, path)
                asker.tally.outage = (failing_since, describe(exc))
                self._sleep(delay)

    def _paced(self, path: str, query: dict[str, t.Any], asker: Asker, *, once: bool) -> t.Any:
        """Wait out 429s: Zendesk pacing us is not a failure, up to an hour per request."""
        rate_limited_for = 0.0
        while True:
            try:
                return self._authorized(path, query, asker)
            except RateLimited as exc:
                self.governor.rate_limited(exc.path, exc.wait, exc.headers)
                if once:
                    raise
                with self._count_lock:
                    asker.tally.throttled += 1
                    asker.tally.waited += exc.wait
                rate_limited_for += exc.wait
                if rate_limited_for > MAX_RATE_LIMIT_WAIT_SECONDS:
                    msg = (
                        f"{asker.name}: Zendesk kept answering 429 Too Many Requests on {path} "
                        f"for {rate_limited_for / 60:.0f} minutes; try again later or lower the "
                        "load on the account"
                    )
                    raise ZendeskError(msg) from exc
                self.logger.warning(
                    "%s: rate limited on %s, waiting %.1fs as Zendesk asked",
                    asker.name,
                    path,
                    exc.wait,
                )

    def _authorized(self, path: str, query: dict[str, t.Any], asker: Asker) -> t.Any:
        """Renew an expired OAuth access token once and send the request again."""
        prepared = self._prepare(path, query)
        try:
            return self._exchange(prepared, asker)
        except AuthenticationFailed as exc:
            sent = prepared.headers.get("Authorization", "").removeprefix("Bearer ")
            if not exc.token_rejected or self.oauth is None:
                raise
            if not self.oauth.renew(sent, self.settings.request_timeout):
                raise
            return self._exchange(self._prepare(path, query), asker)

    def _prepare(self, path: str, query: dict[str, t.Any]) -> requests.PreparedRequest:
        request = requests.Request(
            "GET", self.settings.api_url + path, params=query, headers=self.headers
        )
        return self.session.prepare_request(request)

    def _exchange(self, prepared: requests.PreparedRequest, asker: Asker) -> t.Any:
        """One HTTP exchange within the rate budget; a 2xx body parsed, anything else raised."""
        url_path = urlsplit(prepared.url).path
        waited = self.governor.acquire(url_path)
        # Signed after the wait for the budget: an OAuth token renewed before it expires must
        # not expire while the request waits.
        prepared = self.auth(prepared)
        with self._count_lock:
            asker.tally.requests += 1
            asker.tally.waited += waited
            if asker.on_request is not None:
                asker.on_request()
        response = self.session.send(
            prepared, timeout=self.settings.request_timeout, allow_redirects=False
        )
        self.governor.observe(url_path, response.headers)
        if asker.on_response is not None:
            asker.on_response(response)
        check_status(response, self.settings, asker.name, asker.forbidden_hint)
        return self.decode(response, asker)

    def decode(self, response: requests.Response, asker: Asker) -> t.Any:
        """Parse a 2xx body once; a cut or non-JSON body is transient and retried.

        msgspec refuses valid JSON holding a lone UTF-16 surrogate escape (`"\\ud83d"`, half of
        an emoji some client cut) as if the body were cut; such a page is read by the standard
        parser instead, its lone surrogates becoming U+FFFD so that every target can encode it.
        """
        try:
            return msgspec.json.decode(response.content)
        except msgspec.DecodeError as exc:
            try:
                body = json.loads(response.content)
            except ValueError:
                kind = response.headers.get("Content-Type", "unknown content type")
                msg = f"unreadable response body ({len(response.content)} bytes of {kind})"
                raise TransientError(msg) from exc
            replaced = [0]
            body = _without_lone_surrogates(body, replaced)
            self.logger.warning(
                "%s: %s held %d text value(s) with a lone UTF-16 surrogate (half a character); "
                "each was replaced by U+FFFD",
                asker.name,
                urlsplit(response.url).path,
                replaced[0],
            )
            return body

    def _retry_delay(
        self, exc: BaseException, failures: int, failing_for: float, asker: Asker, path: str
    ) -> float:
        """Seconds to wait before the next attempt after a transient failure, or the error
        that ends the run.

        A failing server (5xx, 409, no connection, no answer) is waited out until it has
        failed for outage_limit_seconds, following its Retry-After: maintenance windows pass.
        A broken body is retried max_retries times. Either way at least max_retries retries.
        """
        reason = describe(exc)
        outage = exc.outage if isinstance(exc, TransientError) else True
        limit, retries = self.settings.outage_limit_seconds, self.settings.max_retries
        if failures > retries and (not outage or failing_for >= limit):
            if outage:
                msg = (
                    f"Zendesk kept failing on {path} for {failing_for / 60:.1f} minutes "
                    f"({reason}), past outage_limit_seconds ({limit:g}); run again later: the "
                    "run resumes from its last STATE"
                )
            else:
                msg = (
                    f"{path} still failing after {failures} attempts ({reason}); check "
                    "Zendesk's status or raise max_retries"
                )
            raise ZendeskError(f"{asker.name}: {msg}") from exc
        asked = exc.wait if isinstance(exc, TransientError) else None
        if asked is not None:
            delay = min(asked, MAX_SERVER_RETRY_AFTER_SECONDS)
        else:
            delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (failures - 1))
            delay *= random.uniform(0.5, 1.0)  # jitter: spread retries of parallel runs
        if outage and failures > retries:
            delay = max(0.0, min(delay, limit - failing_for))
        self.logger.warning(
            "%s: %s (attempt %d; failing for %.0fs, waiting up to %gs), retrying in %.1fs%s",
            asker.name,
            reason,
            failures,
            failing_for,
            limit if outage else 0,
            delay,
            " as Zendesk asked (Retry-After)" if asked is not None else "",
        )
        return delay

    def _untrusted(self, exc: requests.exceptions.SSLError, asker: Asker) -> str:
        host = urlsplit(self.settings.api_url).netloc
        return (
            f"{asker.name}: the TLS certificate of {host} is not trusted ({_ssl_reason(exc)}); "
            "behind a TLS-inspecting proxy, set ca_bundle (or REQUESTS_CA_BUNDLE) to the file "
            "of its CA certificate"
        )


def _session(settings: Settings) -> requests.Session:
    """One connection pool for the run, room for every worker of a per-ticket fan-out."""
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=MAX_PARALLEL_REQUESTS)
    for scheme in ("https://", "http://"):
        session.mount(scheme, adapter)
    # Session.send finds proxies in the environment but not the CA bundle; behind a
    # TLS-inspecting proxy the bundle is what makes Zendesk trusted.
    session.verify = tls_verify(settings.ca_bundle)
    return session


def _heavy(exc: BaseException) -> bool:
    """Whether a failure may come from the page's weight: heavy pages time out or fail with a
    5xx; a Retry-After says when to come back instead, and a broken body is no sign of weight."""
    return not isinstance(exc, TransientError) or (exc.outage and exc.wait is None)


def describe(exc: BaseException) -> str:
    """A short, secret-free reason for a transient failure."""
    if isinstance(exc, requests.exceptions.Timeout):
        return "no response within request_timeout"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the connection broke in the middle of the response"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "the connection failed or was closed"
    if isinstance(exc, ConnectionResetError):
        return "the connection was reset"
    return str(exc) or type(exc).__name__


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_lone_surrogates(value: t.Any, replaced: list[int]) -> t.Any:
    """`value` with every text's lone surrogates replaced by U+FFFD (counted in `replaced`);
    the standard parser already joined the surrogate pairs."""
    if isinstance(value, str):
        if _LONE_SURROGATE.search(value) is None:
            return value
        replaced[0] += 1
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {
            _without_lone_surrogates(key, replaced): _without_lone_surrogates(item, replaced)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_without_lone_surrogates(item, replaced) for item in value]
    return value


def _ssl_reason(exc: requests.exceptions.SSLError) -> str:
    """The certificate problem OpenSSL names, e.g. `certificate verify failed: self-signed
    certificate in certificate chain`, without the URL and pool details around it."""
    found = re.search(r"\[SSL: [A-Z_]+\] ([^(')]+)", str(exc))
    return found.group(1).strip() if found else "certificate verification failed"
