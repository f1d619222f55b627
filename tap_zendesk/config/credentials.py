"""Who the tap is at Zendesk: the way it authenticates, the secret that goes with it, and the
OAuth client that makes or renews access tokens."""

from __future__ import annotations

import dataclasses
import typing as t

from tap_zendesk.config.options import DEFAULTS

# The config field holding each auth_method's secret.
CREDENTIAL_FIELD = {
    "api_token": "api_token",
    "password": "password",
    "oauth": "oauth_token",
    "client_credentials": "client_secret",
}


@dataclasses.dataclass(frozen=True)
class OAuthRefresh:
    """What renews an OAuth access token with the refresh_token grant.

    `refresh_token` is None when only the token store holds one (written by `tap-zendesk auth
    login`).
    """

    refresh_token: str | None = dataclasses.field(repr=False)
    client_id: str
    client_secret: str | None = dataclasses.field(repr=False, default=None)
    # Where rotated tokens are kept between runs (Zendesk deletes the old pair on refresh).
    token_store: str | None = None


@dataclasses.dataclass(frozen=True)
class OAuthClient:
    """A confidential OAuth client that makes its own access tokens (client_credentials)."""

    client_id: str
    client_secret: str = dataclasses.field(repr=False)
    scope: str


def credential_of(config: t.Mapping[str, t.Any], method: str) -> tuple[str, str | None, str]:
    """(auth_method, email, secret) for `method`, a valid auth_method; ValueError saying what
    is missing."""
    field = CREDENTIAL_FIELD[method]
    credential = config.get(field)
    # With only client_id, the refresh token is the one `auth login` left in the store.
    if method == "oauth" and not credential and config.get("client_id"):
        credential = ""  # the refresh token (in the config or the store) makes access tokens
    elif not credential:
        others = [f for m, f in CREDENTIAL_FIELD.items() if m != method and config.get(f)]
        if others:
            other_method = next(m for m, f in CREDENTIAL_FIELD.items() if f == others[0])
            msg = (
                f"auth_method is {method} but {field} is not set ({others[0]} is): "
                f"set {field}, or set auth_method to {other_method}"
            )
        elif method == "oauth":
            msg = (
                "oauth_token is required when auth_method is oauth, unless client_id and a "
                "refresh token are set: run `tap-zendesk auth login --config <config>` to "
                "authorize, or use auth_method client_credentials"
            )
        elif method == "client_credentials":
            msg = (
                "client_secret is required when auth_method is client_credentials: the secret "
                "of a confidential OAuth client (Admin Center > Apps and integrations > APIs > "
                "OAuth clients)"
            )
        else:
            msg = f"{field} is required when auth_method is {method}"
        raise ValueError(msg)
    if not isinstance(credential, str):
        msg = f"{field} must be a string"
        raise ValueError(msg)
    email = config.get("email") or None
    if method in ("api_token", "password") and not email:
        msg = f"email is required when auth_method is {method}: the Zendesk user name"
        raise ValueError(msg)
    if email is not None and (not isinstance(email, str) or "@" not in email):
        msg = "email must be the Zendesk user's email address, e.g. admin@acme.com"
        raise ValueError(msg)
    return method, email, credential


def oauth_refresh_of(config: t.Mapping[str, t.Any]) -> OAuthRefresh | None:
    """How to renew OAuth access tokens, None when nothing renews them."""
    fields = ("refresh_token", "client_id", "client_secret", "oauth_token_store")
    given = {name: config.get(name) for name in fields if config.get(name) not in (None, "")}
    method = config.get("auth_method") or DEFAULTS["auth_method"]
    if method == "client_credentials":
        if stray := [name for name in ("refresh_token", "oauth_token_store") if name in given]:
            msg = (
                f"{' and '.join(stray)} only apply when auth_method is oauth: client_credentials "
                "makes a new access token every run and keeps nothing; remove them"
            )
            raise ValueError(msg)
        return None
    if not given:
        return None
    if method != "oauth":
        msg = (
            f"{', '.join(given)} only apply when auth_method is oauth or client_credentials: "
            "remove them or set auth_method"
        )
        raise ValueError(msg)
    for name, value in given.items():
        if not isinstance(value, str):
            msg = f"{name} must be a string"
            raise ValueError(msg)
    if "client_id" not in given:
        msg = (
            "client_id must be set too: refreshing an OAuth token needs the refresh_token and "
            "the OAuth client's client_id (and client_secret if it has one)"
        )
        raise ValueError(msg)
    return OAuthRefresh(
        refresh_token=given.get("refresh_token"),
        client_id=given["client_id"],
        client_secret=given.get("client_secret"),
        token_store=given.get("oauth_token_store"),
    )


def oauth_client_of(config: t.Mapping[str, t.Any]) -> OAuthClient | None:
    """The client that makes access tokens when auth_method is client_credentials."""
    method = config.get("auth_method") or DEFAULTS["auth_method"]
    scope = config.get("oauth_scope")
    if scope is not None and (not isinstance(scope, str) or not scope.split()):
        msg = 'oauth_scope must be Zendesk OAuth scopes separated by spaces, e.g. "read"'
        raise ValueError(msg)
    if method != "client_credentials":
        return None
    client_id, secret = config.get("client_id"), config.get("client_secret")
    if not client_id or not isinstance(client_id, str):
        msg = (
            "client_id is required when auth_method is client_credentials: the Unique "
            "identifier of the OAuth client (Admin Center > Apps and integrations > APIs > "
            "OAuth clients)"
        )
        raise ValueError(msg)
    return OAuthClient(
        client_id, str(secret or ""), " ".join((scope or DEFAULTS["oauth_scope"]).split())
    )
