"""Where the account is and whom to trust there: the Zendesk URL a config names, in the one
form every request is built on, and the CA bundle its certificate is verified with."""

from __future__ import annotations

import ipaddress
import os
import re
import typing as t
from urllib.parse import urlsplit

_SUBDOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", re.IGNORECASE)
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$", re.IGNORECASE)


def base_url_of(config: t.Mapping[str, t.Any]) -> str:
    """The account's address from `url` or `subdomain`; ValueError saying what to fix."""
    url, subdomain = config.get("url"), config.get("subdomain")
    if url and subdomain and _normalise_url(str(url)) != _normalise_url(str(subdomain)):
        msg = "url and subdomain point at different accounts: set only url"
        raise ValueError(msg)
    raw = url or subdomain
    if not raw:
        msg = "url is required: your Zendesk address, e.g. acme or https://acme.zendesk.com"
        raise ValueError(msg)
    if not isinstance(raw, str):
        msg = "url must be a string such as https://acme.zendesk.com"
        raise ValueError(msg)
    return _normalise_url(raw)


def _normalise_url(raw: str) -> str:
    """Accept `acme`, `acme.zendesk.com`, `https://acme.zendesk.com/api/v2/` and host maps."""
    text = raw.strip()
    if "://" not in text:
        text = "https://" + (text if "." in text or ":" in text else f"{text}.zendesk.com")
    parts = urlsplit(text)
    shown = raw.strip()
    host = parts.hostname or ""
    if parts.scheme not in {"http", "https"}:
        msg = f"url {shown!r} must start with https://"
        raise ValueError(msg)
    if parts.username or parts.password:
        msg = "url must not contain credentials: put them in email and api_token"
        raise ValueError(msg)
    if parts.query or parts.fragment:
        msg = f"url {shown!r} must not have a query or fragment: use https://acme.zendesk.com"
        raise ValueError(msg)
    path = parts.path.rstrip("/")
    if path.lower().endswith("/api/v2"):
        path = path[: -len("/api/v2")]
    if path:
        msg = f"url {shown!r} has an unexpected path {path!r}: use https://acme.zendesk.com"
        raise ValueError(msg)
    if not (_HOST_NAME.match(host) or _is_ip(host)):
        msg = f"url {shown!r} is not a valid address: use e.g. https://acme.zendesk.com"
        raise ValueError(msg)
    if host.endswith(".zendesk.com") and not _SUBDOMAIN.match(host.removesuffix(".zendesk.com")):
        msg = f"url {shown!r} has an invalid Zendesk subdomain"
        raise ValueError(msg)
    if parts.scheme == "http" and not _is_loopback(host):
        msg = (
            f"url {shown!r} uses plain http: use https:// "
            "(http is accepted only for loopback hosts such as 127.0.0.1)"
        )
        raise ValueError(msg)
    try:
        port = parts.port
    except ValueError:
        msg = f"url {shown!r} has an invalid port"
        raise ValueError(msg) from None
    netloc = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{netloc.lower()}{f':{port}' if port else ''}"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_loopback(host: str) -> bool:
    return host.lower() == "localhost" or (_is_ip(host) and ipaddress.ip_address(host).is_loopback)


def tls_verify(ca_bundle: str | None) -> str | bool:
    """What requests should verify Zendesk's certificate with: the configured CA bundle, else
    the one the standard variables name (requests', curl's, OpenSSL's), else True (the bundle
    requests ships). Needed because Session.send, which the SDK uses, reads no variable."""
    if ca_bundle:
        return ca_bundle
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        if value := os.environ.get(name):
            return value
    return True


def ca_bundle_of(config: t.Mapping[str, t.Any]) -> str | None:
    """The configured CA bundle, None for the default; ValueError when it is not a file."""
    value = config.get("ca_bundle")
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not os.path.isfile(value):
        msg = (
            f"ca_bundle must be the path of a PEM file of CA certificates; {value!r} is not a file"
        )
        raise ValueError(msg)
    return value
