"""Errors of the client: RFC 7807 problem details and the failures around them."""

from __future__ import annotations

import builtins
import http
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .models import Deployment, LcmOpOcc

__all__ = [
    "DeploymentError",
    "O2IMSConnectionError",
    "O2IMSError",
    "OAuth2Error",
    "OperationError",
    "ProblemError",
    "WaitTimeout",
    "is_auth_error",
    "is_bad_request",
    "is_conflict",
    "is_forbidden",
    "is_not_found",
    "is_precondition_failed",
    "is_unauthorized",
    "is_unprocessable",
    "status_code",
]

# The detail taken from a body that is not problem details is cut here.
_MAX_PLAIN_DETAIL = 512

_JSON_TYPES = ("application/problem+json", "application/json")


class Headers(dict):
    """HTTP headers by lower-case name, looked up regardless of case."""

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        super().__init__({k.lower(): v for k, v in (items or {}).items()})

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)

    def __getitem__(self, key: str) -> Any:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())


class O2IMSError(Exception):
    """Base class of every error the client raises."""


class ProblemError(O2IMSError):
    """A non-2xx answer of the IMS: the RFC 7807 problem details of its body,
    or a stand-in built from the status when the body holds none.

    ``status`` is the HTTP status (the status line wins over the body),
    ``title`` defaults to the status's reason phrase, ``type`` to
    ``about:blank`` and ``instance`` to the request path. ``body`` is the
    decoded problem object (unknown members included) and ``headers`` the
    response headers, such as ``Retry-After`` or ``WWW-Authenticate``.
    """

    def __init__(
        self,
        status: int,
        title: str = "",
        detail: str = "",
        type: str = "about:blank",  # noqa: A002 - the RFC 7807 member name
        instance: str = "",
        *,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.title = title or _reason(status)
        self.detail = detail
        self.type = type or "about:blank"
        self.instance = instance
        self.body: dict[str, Any] = dict(body or {})
        self.headers: Headers = Headers(headers or {})
        super().__init__(str(self))

    def __str__(self) -> str:
        s = f"{self.status} {self.title}".strip()
        if self.detail:
            s += ": " + self.detail
        return s

    def __repr__(self) -> str:
        return (
            f"ProblemError(status={self.status!r}, title={self.title!r}, detail={self.detail!r}, "
            f"type={self.type!r}, instance={self.instance!r})"
        )

    @classmethod
    def from_response(
        cls, status: int, content_type: str, body: bytes, path: str, headers: Mapping[str, str] | None = None
    ) -> ProblemError:
        """Build the error of an answer with ``status``, ``content_type`` and
        ``body`` to a request of ``path``."""
        media = (content_type or "").split(";", 1)[0].strip().lower()
        decoded: dict[str, Any] | None = None
        if media in _JSON_TYPES or media.endswith("+json"):
            try:
                value = json.loads(body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                value = None
            if isinstance(value, dict):
                decoded = value
        if decoded is None:
            return cls(status, detail=_plain_detail(body), instance=path, headers=headers)

        def text(key: str) -> str:
            v = decoded.get(key)
            return v if isinstance(v, str) else ""

        return cls(
            status,
            title=text("title"),
            detail=text("detail"),
            type=text("type"),
            instance=text("instance") or path,
            body=decoded,
            headers=headers,
        )

    def is_not_found(self) -> bool:
        """Status 404: no object with this identifier."""
        return self.status == 404

    def is_bad_request(self) -> bool:
        """Status 400: the request is malformed, such as an invalid filter."""
        return self.status == 400

    def is_unauthorized(self) -> bool:
        """Status 401: credentials missing or not accepted."""
        return self.status == 401

    def is_forbidden(self) -> bool:
        """Status 403: the credentials lack a needed scope."""
        return self.status == 403

    def is_conflict(self) -> bool:
        """Status 409: the request conflicts with the current state."""
        return self.status == 409

    def is_precondition_failed(self) -> bool:
        """Status 412: ``If-Match`` names an older version."""
        return self.status == 412

    def is_unprocessable(self) -> bool:
        """Status 422: well-formed, but the server cannot carry it out."""
        return self.status == 422


class OAuth2Error(O2IMSError):
    """The OAuth 2.0 token endpoint refused to issue a token (RFC 6749
    section 5.2), or answered with something that is not a token."""

    def __init__(self, message: str, *, status: int = 0, error: str = "", description: str = "") -> None:
        self.status = status
        self.error = error
        self.description = description
        super().__init__(message)


class O2IMSConnectionError(O2IMSError, builtins.ConnectionError):
    """No answer arrived: the connection was refused, reset or timed out, or
    TLS failed (``__cause__`` holds the underlying error)."""


class WaitTimeout(O2IMSError, TimeoutError):
    """A ``wait`` ran out of time; ``last`` is the object as last read."""

    def __init__(self, message: str, last: Any = None) -> None:
        self.last = last
        super().__init__(message)


class DeploymentError(O2IMSError):
    """``deployments.wait`` found the deployment FAILED."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        status = deployment.status
        detail = (status.message if status else None) or ""
        if status and status.error and status.error.detail:
            detail = status.error.detail
        super().__init__(f"deployment {deployment.name} ({deployment.deployment_id}) FAILED: {detail}".rstrip(": "))


class OperationError(O2IMSError):
    """``lcm_op_occs.wait`` saw the operation end FAILED or ROLLED_BACK."""

    def __init__(self, op: LcmOpOcc) -> None:
        self.op = op
        s = f"{op.operation} operation {op.id} of CNF instance {op.cnf_instance_id} {op.operation_state}"
        problem = _problem_text(op.error)
        if problem:
            s += ": " + problem
        super().__init__(s)


def _problem_text(p: Any) -> str:
    """A ProblemDetails model as "422 Unprocessable Entity: detail"."""
    if p is None:
        return ""
    parts = []
    if p.status:
        parts.append(str(p.status))
    title = p.title or (_reason(p.status) if p.status else "")
    if title:
        parts.append(title)
    s = " ".join(parts)
    if p.detail:
        s = f"{s}: {p.detail}" if s else p.detail
    return s


def status_code(err: BaseException | None) -> int:
    """The HTTP status of ``err`` when it is a :class:`ProblemError` (or
    one of its causes is), else 0."""
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, ProblemError):
            return err.status
        err = err.__cause__ or err.__context__
    return 0


def is_not_found(err: BaseException | None) -> bool:
    """Whether ``err`` is a problem with status 404."""
    return status_code(err) == 404


def is_bad_request(err: BaseException | None) -> bool:
    """Whether ``err`` is a problem with status 400."""
    return status_code(err) == 400


def is_unauthorized(err: BaseException | None) -> bool:
    """Whether ``err`` is a problem with status 401."""
    return status_code(err) == 401


def is_forbidden(err: BaseException | None) -> bool:
    """Whether ``err`` is a problem with status 403."""
    return status_code(err) == 403


def is_conflict(err: BaseException | None) -> bool:
    """Whether ``err`` is a problem with status 409."""
    return status_code(err) == 409


def is_precondition_failed(err: BaseException | None) -> bool:
    """Whether ``err`` is a problem with status 412."""
    return status_code(err) == 412


def is_unprocessable(err: BaseException | None) -> bool:
    """Whether ``err`` is a problem with status 422."""
    return status_code(err) == 422


def is_auth_error(err: BaseException | None) -> bool:
    """Whether ``err`` is an authentication or authorization failure: a
    problem with status 401 or 403, or the token endpoint's refusal."""
    return status_code(err) in (401, 403) or isinstance(err, OAuth2Error)


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _plain_detail(body: bytes) -> str:
    """A short, single-line excerpt of a body that is not problem details,
    or "" when it is not text."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return ""
    text = " ".join(text.split())
    if len(text) > _MAX_PLAIN_DETAIL:
        text = text[:_MAX_PLAIN_DETAIL] + "…"
    return text
