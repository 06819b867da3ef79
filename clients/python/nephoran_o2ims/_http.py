"""HTTP for the client: urllib.request in a worker thread, TLS, retries,
authentication headers and the SOL013 ``Link`` header."""

from __future__ import annotations

import asyncio
import email.utils
import http.client
import ipaddress
import json
import os
import random
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import Headers, O2IMSConnectionError, O2IMSError, OAuth2Error, ProblemError

__all__ = ["Response", "RetryPolicy", "Transport", "find_link", "make_ssl_context", "parse_retry_after"]

# The largest response body read.
MAX_BODY_BYTES = 64 << 20

_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE"})
_RETRYABLE_STATUS = frozenset({429, 503})


@dataclass(frozen=True)
class RetryPolicy:
    """When a failed request is sent again.

    Only idempotent requests (GET, HEAD, PUT, DELETE) are retried, after a
    transport error or a 429 or 503 answer, at most ``max_retries`` times.
    POST and PATCH never are: the first attempt may have been applied. The
    wait is the server's ``Retry-After`` (capped at ``max_retry_after``),
    else a backoff doubling from ``base_delay`` to ``max_delay`` of which a
    random half is jitter.
    """

    max_retries: int = 3
    base_delay: float = 0.25
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def should_retry(self, method: str, attempt: int, status: int, error: BaseException | None) -> bool:
        """Whether attempt ``attempt`` (0 for the first) of a ``method``
        request, which ended with ``status`` (0 without an answer) or
        ``error``, is followed by another."""
        if attempt >= self.max_retries or method.upper() not in _IDEMPOTENT:
            return False
        if error is not None:
            return retryable_error(error)
        return status in _RETRYABLE_STATUS

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number ``attempt + 1``."""
        if retry_after is not None and retry_after > 0:
            return min(retry_after, self.max_retry_after)
        d = min(self.base_delay * (2**attempt), self.max_delay)
        half = d / 2
        return half + random.uniform(0, d - half)


def retryable_error(err: BaseException) -> bool:
    """Whether a transport error is worth another attempt: a refused or
    reset connection or a timed-out attempt is; a certificate the client
    rejects, a TLS failure and a refused OAuth 2.0 credential are not."""
    if isinstance(err, OAuth2Error):
        return False
    if isinstance(err, urllib.error.URLError) and isinstance(err.reason, BaseException):
        err = err.reason
    if isinstance(err, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
        return True  # the connection was cut, not refused by TLS
    if isinstance(err, (ssl.SSLError, ssl.CertificateError)):
        return False
    return isinstance(err, (OSError, http.client.HTTPException, TimeoutError, socket.timeout, urllib.error.URLError))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """A ``Retry-After`` header in seconds (delay-seconds or an HTTP date),
    or None when absent, invalid or in the past. At most a day."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        n = int(value)
        return float(min(n, 86400)) if n > 0 else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    delta = when.timestamp() - (time.time() if now is None else now)
    return min(delta, 86400.0) if delta > 0 else None


def find_link(values: list[str], rel: str) -> str | None:
    """The target of the first link-value of the ``Link`` header values with
    relation ``rel`` (RFC 8288), or None. Targets may hold commas and
    semicolons, so the header is scanned, not split."""
    for v in values:
        s = v
        while True:
            start = s.find("<")
            if start < 0:
                break
            end = s.find(">", start)
            if end < 0:
                break
            target = s[start + 1 : end]
            params, s = _link_params(s[end + 1 :])
            if any(r.lower() == rel.lower() for r in params.get("rel", "").split()):
                return target
    return None


def _link_params(s: str) -> tuple[dict[str, str], str]:
    """The ``;name=value`` parameters after a link target, up to the ``,``
    ending the link-value, quoted strings honoured; and the rest."""
    params: dict[str, str] = {}
    i, n = 0, len(s)
    while i < n:
        while i < n and s[i] not in ";,":
            i += 1
        if i == n or s[i] == ",":
            break
        i += 1  # ';'
        j = i
        while j < n and s[j] not in "=;,":
            j += 1
        name = s[i:j].strip().lower()
        i = j
        if i < n and s[i] == "=":
            i += 1
            while i < n and s[i] in " \t":
                i += 1
            val = []
            if i < n and s[i] == '"':
                i += 1
                while i < n and s[i] != '"':
                    if s[i] == "\\" and i + 1 < n:
                        i += 1
                    val.append(s[i])
                    i += 1
                if i < n:
                    i += 1
            else:
                j = i
                while j < n and s[j] not in ";,":
                    j += 1
                val.append(s[i:j].strip())
                i = j
            if name and name not in params:
                params[name] = "".join(val)
    if i < n and s[i] == ",":
        i += 1
    return params, s[i:]


def make_ssl_context(verify: bool | str | os.PathLike[str] | ssl.SSLContext = True, cert: Any = None) -> ssl.SSLContext:
    """The TLS configuration of ``verify`` and ``cert``.

    ``verify`` is True (the system's roots), False (no verification of the
    server: for tests only), the path of a PEM file or directory of
    certificate authorities trusted besides the system's, or an
    ``ssl.SSLContext`` used as it is. ``cert`` is a client certificate:
    the path of a PEM file holding certificate and key, or a tuple
    ``(cert_file, key_file)`` or ``(cert_file, key_file, password)``.
    """
    if isinstance(verify, ssl.SSLContext):
        ctx = verify
    else:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if verify is False:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        elif verify is not True and verify is not None:
            path = os.fspath(verify)
            if os.path.isdir(path):
                ctx.load_verify_locations(capath=path)
            else:
                ctx.load_verify_locations(cafile=path)
    if cert:
        if isinstance(cert, (tuple, list)):
            ctx.load_cert_chain(*cert)
        else:
            ctx.load_cert_chain(os.fspath(cert))
    return ctx


class Auth(Protocol):
    """What adds credentials to the requests of a Transport."""

    def authorization(self, transport: Transport) -> str | None: ...

    def invalidate(self) -> None: ...


@dataclass
class Response:
    """A 2xx answer."""

    status: int
    headers: Mapping[str, str]
    header_values: dict[str, list[str]]
    body: bytes
    url: str

    def json(self) -> Any:
        if not self.body.strip():
            return None
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            path = urllib.parse.urlsplit(self.url).path
            raise O2IMSError(f"decoding the response of {path}: {e}") from e


class _NoAnswer(Exception):
    """An attempt that ended without an answer."""

    def __init__(self, cause: BaseException) -> None:
        self.cause = cause


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    """Follows redirects, with the credentials only on the endpoint's origin."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None:
            auth = req.unredirected_hdrs.get("Authorization")
            if auth and origin(new.full_url) == self._transport.origin:
                new.add_unredirected_header("Authorization", auth)
        return new


def origin(url: str) -> str:
    """The scheme and host (with port) of ``url``, in lower case."""
    u = urllib.parse.urlsplit(url)
    return f"{u.scheme}://{u.netloc}".lower()


def _loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Transport:
    """Sends requests to one IMS endpoint."""

    def __init__(
        self,
        endpoint: str,
        *,
        auth: Auth | None,
        ssl_context: ssl.SSLContext,
        timeout: float | None,
        retry: RetryPolicy,
        user_agent: str,
    ) -> None:
        self.endpoint = parse_endpoint(endpoint)
        self.origin = origin(self.endpoint)
        self.prefix = urllib.parse.urlsplit(self.endpoint).path
        self.auth = auth
        self.ssl_context = ssl_context
        self.timeout = timeout
        self.retry = retry
        self.user_agent = user_agent
        https = urllib.request.HTTPSHandler(context=ssl_context)
        redirect = _RedirectHandler(self)
        self._opener = urllib.request.build_opener(https, redirect)
        # Loopback is never reached through a proxy (as in Go's
        # ProxyFromEnvironment).
        self._direct = urllib.request.build_opener(urllib.request.ProxyHandler({}), https, redirect)

    def url(self, prefix: str, *segments: str) -> str:
        """The URL of ``prefix`` (an API root such as ``/o2ims/v1``) and
        path segments below the endpoint; each segment is escaped."""
        path = self.prefix + prefix
        for s in segments:
            if not isinstance(s, str) or s == "":
                raise ValueError(f"invalid path segment {s!r}")
            path += "/" + urllib.parse.quote(s, safe="")
        return self.endpoint[: len(self.endpoint) - len(self.prefix)] + path

    async def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """Send the request, retrying as the policy allows, and return a 2xx
        answer; raise ProblemError for any other answer and
        O2IMSConnectionError when none arrived."""
        attempt = 0
        while True:
            status, retry_after, error = 0, None, None
            try:
                resp = await asyncio.to_thread(self.send, method, url, body, content_type, headers)
            except _NoAnswer as e:
                error = e.cause
                if isinstance(error, urllib.error.URLError) and isinstance(error.reason, BaseException):
                    error = error.reason
                failure: BaseException = O2IMSConnectionError(f"{method} {_path(url)}: {_describe(error)}")
                failure.__cause__ = error
            else:
                if 200 <= resp.status < 300:
                    return resp
                status = resp.status
                failure = ProblemError.from_response(
                    resp.status, resp.headers.get("Content-Type", ""), resp.body, _path(url), resp.headers
                )
                retry_after = parse_retry_after(resp.headers.get("Retry-After"))
                if status == 401 and self.auth is not None:
                    self.auth.invalidate()
            if not self.retry.should_retry(method, attempt, status, error):
                raise failure
            await asyncio.sleep(self.retry.delay(attempt, retry_after))
            attempt += 1

    def send(
        self,
        method: str,
        url: str,
        body: bytes | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        authenticate: bool = True,
    ) -> Response:
        """Send one attempt (blocking) and return its answer, whatever its
        status; raise _NoAnswer when none arrived."""
        req = urllib.request.Request(url, data=body, method=method)
        req.add_header("Accept", "application/json, application/problem+json")
        req.add_header("User-Agent", self.user_agent)
        if body is not None:
            req.add_header("Content-Type", content_type or "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        if authenticate and self.auth is not None and origin(url) == self.origin:
            value = self.auth.authorization(self)  # may fetch a token; OAuth2Error is not retried
            if value:
                req.add_unredirected_header("Authorization", value)
        opener = self._direct if _loopback(urllib.parse.urlsplit(url).hostname) else self._opener
        try:
            try:
                res = opener.open(req, timeout=self.timeout)
            except urllib.error.HTTPError as e:
                res = e
            with res:
                data = res.read(MAX_BODY_BYTES + 1)
                status = res.getcode()
                hdrs = res.headers
                final_url = res.geturl() or url
        except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
            raise _NoAnswer(e) from e
        if len(data) > MAX_BODY_BYTES:
            raise O2IMSError(f"the response of {method} {_path(url)} exceeds {MAX_BODY_BYTES} bytes")
        values: dict[str, list[str]] = {}
        for k, v in hdrs.items():
            values.setdefault(k.lower(), []).append(v)
        flat = {k: ", ".join(v) for k, v in values.items()}
        return Response(int(status), Headers(flat), values, data, final_url)

    def next_link(self, resp: Response) -> str | None:
        """The URL of the ``Link: <...>; rel="next"`` of ``resp``, resolved
        against the request's URL, or None. A link outside the endpoint's
        origin is refused so credentials never go elsewhere; when the
        endpoint has a path prefix (a gateway) that the server's link
        lacks, the prefix is added back."""
        ref = find_link(resp.header_values.get("link", []), "next")
        if ref is None:
            return None
        nxt = urllib.parse.urljoin(resp.url, ref)
        if origin(nxt) != self.origin:
            raise O2IMSError(f"refusing next-page link {ref!r} outside the endpoint {self.endpoint}")
        target = urllib.parse.urlsplit(ref)
        parts = urllib.parse.urlsplit(nxt)
        if self.prefix and not target.netloc and target.path.startswith("/") and not parts.path.startswith(self.prefix + "/"):
            nxt = urllib.parse.urlunsplit(parts._replace(path=self.prefix + parts.path))
        return nxt


def parse_endpoint(raw: str) -> str:
    """``raw`` checked to be an absolute http(s) URL without credentials,
    without query, fragment or trailing slash."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError("no endpoint: pass endpoint= or set O2IMS_ENDPOINT")
    u = urllib.parse.urlsplit(raw.strip())
    if u.scheme not in ("http", "https"):
        raise ValueError(f"endpoint {raw!r}: the scheme must be http or https")
    if not u.hostname:
        raise ValueError(f"endpoint {raw!r} has no host")
    if u.username is not None or u.password is not None:
        raise ValueError("credentials belong in token= or oauth2=, not in the endpoint URL")
    return urllib.parse.urlunsplit((u.scheme, u.netloc, u.path.rstrip("/"), "", ""))


def _path(url: str) -> str:
    return urllib.parse.urlsplit(url).path


def _describe(err: BaseException) -> str:
    if isinstance(err, urllib.error.URLError) and not isinstance(err, urllib.error.HTTPError):
        return str(err.reason)
    return str(err) or type(err).__name__
