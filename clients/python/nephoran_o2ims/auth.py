"""Credentials: a static bearer token, or OAuth 2.0 client credentials."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from .errors import OAuth2Error

if TYPE_CHECKING:  # pragma: no cover
    from ._http import Transport

__all__ = ["SCOPE_READ", "SCOPE_WRITE", "BearerToken", "OAuth2ClientCredentials"]

#: Scope of reading the inventory and the monitoring data.
SCOPE_READ = "o2ims:read"
#: Scope of creating, changing and deleting (subscriptions, alarms, deployments…).
SCOPE_WRITE = "o2ims:write"


class BearerToken:
    """A fixed bearer token, sent as ``Authorization: Bearer <token>``."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("a bearer token is not empty")
        self._token = token

    def authorization(self, transport: Transport) -> str:
        return "Bearer " + self._token

    def invalidate(self) -> None:
        pass

    def __repr__(self) -> str:
        return "BearerToken(***)"


class OAuth2ClientCredentials:
    """The OAuth 2.0 client credentials grant (RFC 6749 section 4.4).

    The access token is requested on first use, cached, and requested
    again ``leeway`` seconds before it expires (or after the IMS answered
    401). Concurrent requests share one token request. The client
    authenticates with HTTP Basic (``auth_style="header"``), in the form
    body (``"params"``), or, by default, tries Basic first and falls back
    to the body when the endpoint refuses it, as Go's oauth2 package does.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str = "",
        scopes: Iterable[str] | str | None = None,
        *,
        params: Mapping[str, str] | None = None,
        leeway: float = 10.0,
        auth_style: str = "auto",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        u = urllib.parse.urlsplit(token_url or "")
        if u.scheme not in ("http", "https") or not u.netloc:
            raise ValueError(f"invalid OAuth2 token URL {token_url!r}")
        if not client_id:
            raise ValueError("OAuth2 client credentials need a client_id")
        if auth_style not in ("auto", "header", "params"):
            raise ValueError(f"auth_style is auto, header or params, not {auth_style!r}")
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret or ""
        self.scopes = [scopes] if isinstance(scopes, str) else list(scopes or [])
        self.params = dict(params or {})
        self.leeway = leeway
        self._style = auth_style
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._type = "Bearer"
        self._expiry: float | None = None
        #: How many tokens were fetched (for tests and metrics).
        self.fetched = 0

    def __repr__(self) -> str:
        return f"OAuth2ClientCredentials(token_url={self.token_url!r}, client_id={self.client_id!r}, scopes={self.scopes!r})"

    def authorization(self, transport: Transport) -> str:
        with self._lock:
            if self._token is None or (self._expiry is not None and self._clock() >= self._expiry - self.leeway):
                self._fetch(transport)
            return f"{self._type} {self._token}"

    def invalidate(self) -> None:
        """Forget the cached token; the next request fetches a new one."""
        with self._lock:
            self._token = None

    def _fetch(self, transport: Transport) -> None:
        form = {"grant_type": "client_credentials", **self.params}
        if self.scopes:
            form["scope"] = " ".join(self.scopes)
        styles = ["header", "params"] if self._style == "auto" else [self._style]
        for i, style in enumerate(styles):
            fields = dict(form)
            headers = {}
            if style == "header":
                pair = urllib.parse.quote_plus(self.client_id) + ":" + urllib.parse.quote_plus(self.client_secret)
                headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
            else:
                fields["client_id"] = self.client_id
                if self.client_secret:
                    fields["client_secret"] = self.client_secret
            body = urllib.parse.urlencode(fields).encode()
            started = self._clock()
            resp = transport.send(
                "POST", self.token_url, body, "application/x-www-form-urlencoded", headers, authenticate=False
            )
            if 200 <= resp.status < 300:
                if self._style == "auto":
                    self._style = style  # remember what worked
                self._accept(resp.body, resp.headers.get("Content-Type", ""), started)
                return
            if i + 1 < len(styles) and resp.status in (400, 401):
                continue
            raise _refusal(resp.status, resp.body)

    def _accept(self, body: bytes, content_type: str, started: float) -> None:
        media = content_type.split(";", 1)[0].strip().lower()
        try:
            if media in ("application/x-www-form-urlencoded", "text/plain"):
                data = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
            else:
                data = json.loads(body.decode())
        except (ValueError, UnicodeDecodeError) as e:
            raise OAuth2Error(f"oauth2: the token endpoint's answer is not a token: {e}") from e
        if not isinstance(data, dict) or not isinstance(data.get("access_token"), str) or not data["access_token"]:
            raise OAuth2Error("oauth2: the token endpoint's answer holds no access_token")
        token_type = str(data.get("token_type") or "Bearer")
        self._type = "Bearer" if token_type.lower() == "bearer" else token_type
        self._token = data["access_token"]
        expires = data.get("expires_in")
        try:
            seconds = float(expires) if expires not in (None, "") else None
        except (TypeError, ValueError):
            seconds = None
        self._expiry = started + seconds if seconds and seconds > 0 else None
        self.fetched += 1


def _refusal(status: int, body: bytes) -> OAuth2Error:
    error = description = ""
    try:
        data = json.loads(body.decode())
        if isinstance(data, dict):
            error = str(data.get("error") or "")
            description = str(data.get("error_description") or "")
    except (ValueError, UnicodeDecodeError):
        pass
    msg = f"oauth2: the token endpoint answered {status}"
    if error:
        msg += f" {error}"
    if description:
        msg += f": {description}"
    return OAuth2Error(msg, status=status, error=error, description=description)
