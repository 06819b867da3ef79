"""The services of the client, one per collection of the IMS APIs."""

from __future__ import annotations

import asyncio
import json
import os
import posixpath
import random
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._http import Response
from ._model import Model
from .capacity import encode_resource_list
from .enums import DeploymentPhase, OperationState
from .errors import DeploymentError, O2IMSError, OperationError, WaitTimeout, is_not_found
from .filter import Filter, _as_filter
from .models import (
    AlarmDictionary,
    AlarmEventRecord,
    AlarmEventRecordModifications,
    AlarmServiceConfiguration,
    AlarmSubscriptionInfo,
    CnfInstance,
    CnfPackage,
    CnfPackageMetadata,
    Deployment,
    DeploymentManager,
    DeploymentPatch,
    DeploymentSpec,
    DeploymentStatusUpdate,
    LcmOpOcc,
    ProbableCause,
    Provider,
    ProviderStatus,
    Recommendation,
    Resource,
    ResourcePool,
    ResourceType,
    Subscription,
)

if TYPE_CHECKING:  # pragma: no cover
    from .client import O2IMSClient

__all__ = ["MAX_LIMIT", "Page"]

T = TypeVar("T", bound=Model)

#: The largest page size the IMS accepts.
MAX_LIMIT = 1000
#: The largest CNF package content the IMS accepts.
MAX_PACKAGE_BYTES = 32 << 20

INVENTORY = "/o2ims-infrastructureInventory/v1"
MONITORING = "/o2ims-infrastructureMonitoring/v1"
NEPHORAN = "/o2ims/v1"

_MERGE_PATCH = "application/merge-patch+json"


class Page(list, Generic[T]):
    """One page of a collection: a list of its objects, in the server's
    order, and ``next_marker``, the opaque marker of the next page (None on
    the last), to pass as ``marker=``."""

    def __init__(
        self,
        items: Iterable[T] = (),
        next_marker: str | None = None,
        change_stamp: str | None = None,
        deleted: Iterable[str] = (),
    ) -> None:
        super().__init__(items)
        self.next_marker = next_marker
        #: From collections that follow changes (resource pools and
        #: deployments): the ``changed_since`` of the next poll.
        self.change_stamp = change_stamp
        #: The ids of the objects deleted since ``changed_since``.
        self.deleted = list(deleted)

    @property
    def has_next(self) -> bool:
        """Whether a further page exists."""
        return bool(self.next_marker)

    def dicts(self) -> list[dict[str, Any]]:
        """``[o.dict() for o in page]``."""
        return [o.dict() for o in self]

    def __repr__(self) -> str:
        return f"Page({list.__repr__(self)}, next_marker={self.next_marker!r})"


def list_params(
    *,
    filter: Filter | str | None = None,  # noqa: A002 - the SOL013 parameter name
    fields: str | Iterable[str] | None = None,
    exclude_fields: str | Iterable[str] | None = None,
    all_fields: bool = False,
    exclude_default: bool = False,
    limit: int | None = None,
    marker: str | None = None,
    min_capacity: Any = None,
    changed_since: str | None = None,
) -> dict[str, str]:
    """The SOL013 query parameters of a collection request."""
    q: dict[str, str] = {}
    f = _as_filter(filter)
    if not f.is_zero():
        q["filter"] = str(f)
    if fields:
        q["fields"] = fields if isinstance(fields, str) else ",".join(fields)
    if exclude_fields:
        q["exclude_fields"] = exclude_fields if isinstance(exclude_fields, str) else ",".join(exclude_fields)
    if all_fields:
        q["all_fields"] = ""
    if exclude_default:
        q["exclude_default"] = ""
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a positive int, not {limit!r}")
        q["limit"] = str(limit)
    if marker:
        q["nextpage_opaque_marker"] = marker
    if min_capacity:
        q["minCapacity"] = encode_resource_list(min_capacity)
    if changed_since:
        q["changedSince"] = changed_since
    return q


def encode_query(q: Mapping[str, str]) -> str:
    """``q`` as a query string, keys sorted, as Go's url.Values.Encode."""
    return urllib.parse.urlencode(sorted(q.items()), quote_via=urllib.parse.quote_plus)


def _body(value: Any) -> bytes:
    if isinstance(value, Model):
        value = value.dict()
    return json.dumps(value, separators=(",", ":"), default=_json_default).encode()


def _json_default(o: Any) -> Any:
    if isinstance(o, Model):
        return o.dict()
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    return str(o)


def _encode_model(value: Any, cls: type[Model]) -> dict[str, Any]:
    """A request body given as a model or a mapping (API or Python names)."""
    if value is None:
        return {}
    return cls.from_dict(value).dict()


class _Collection(Generic[T]):
    """A collection of objects of one model at one URL: listing, paging
    and the operations on its items."""

    def __init__(self, client: O2IMSClient, model: type[T], what: str, prefix: str, *segments: str) -> None:
        self._client = client
        self._http = client._transport
        self.model = model
        self.what = what
        self.url = self._http.url(prefix, *segments)

    def item_url(self, id: str, *more: str) -> str:  # noqa: A002
        if not isinstance(id, str) or not id:
            raise ValueError(f"empty {self.what} ID")
        return self.url + "/" + "/".join(urllib.parse.quote(s, safe="") for s in (id, *more))

    async def list(self, q: Mapping[str, str], url: str | None = None) -> Page[T]:
        items, nxt, stamp, deleted = await self._fetch_page(self._with_query(url or self.url, q))
        marker = None
        if nxt is not None:
            values = urllib.parse.parse_qs(urllib.parse.urlsplit(nxt).query, keep_blank_values=True)
            marker = (values.get("nextpage_opaque_marker") or [""])[0]
            if not marker:
                raise O2IMSError(f"next-page link {nxt!r} carries no nextpage_opaque_marker")
        return Page(items, marker, stamp, deleted)

    async def iter(self, q: Mapping[str, str], url: str | None = None) -> AsyncIterator[T]:
        nxt: str | None = self._with_query(url or self.url, q)
        visited: set[str] = set()
        while nxt is not None:
            visited.add(nxt)
            items, following = await self._fetch(nxt)
            for it in items:
                yield it
            if following is not None and following in visited:
                raise O2IMSError(f"paging loop: the server links back to {following}")
            nxt = following

    async def get(self, id: str, url: str | None = None, model: type[Model] | None = None) -> Any:  # noqa: A002
        resp = await self._http.request("GET", url or self.item_url(id))
        return self._decode_one(resp, model)

    async def create(self, body: Any) -> T:
        resp = await self._http.request("POST", self.url, body=_body(body))
        return self._decode_one(resp)

    async def delete(self, id: str) -> Response:  # noqa: A002
        return await self._http.request("DELETE", self.item_url(id))

    async def patch(self, id: str, body: Any, headers: Mapping[str, str] | None = None) -> Response:  # noqa: A002
        return await self._http.request(
            "PATCH", self.item_url(id), body=_body(body), content_type=_MERGE_PATCH, headers=headers
        )

    def _decode_one(self, resp: Response, model: type[Model] | None = None) -> Any:
        data = resp.json()
        model = model or self.model
        if data is None:
            return model()
        if not isinstance(data, dict):
            raise O2IMSError(f"{_path(resp.url)}: expected a {self.what} object, got {type(data).__name__}")
        return model.from_dict(data)

    async def _fetch(self, url: str) -> tuple[list[T], str | None]:
        items, nxt, _, _ = await self._fetch_page(url)
        return items, nxt

    async def _fetch_page(self, url: str) -> tuple[list[T], str | None, str | None, list[str]]:
        """A page's objects, next link, change stamp and tombstones
        (``{"<id>": …, "deleted": true}`` entries of a changedSince list)."""
        resp = await self._http.request("GET", url)
        data = resp.json()
        if data is None:
            data = []
        if not isinstance(data, list):
            raise O2IMSError(f"{_path(resp.url)}: expected a list of {self.what}, got {type(data).__name__}")
        items: list[T] = []
        deleted: list[str] = []
        for o in data:
            if isinstance(o, dict) and o.get("deleted") is True and len(o) == 2:
                deleted.extend(v for k, v in o.items() if k != "deleted" and isinstance(v, str))
                continue
            items.append(self.model.from_dict(o) if isinstance(o, dict) else o)
        return items, self._http.next_link(resp), resp.headers.get("X-Change-Stamp"), deleted

    @staticmethod
    def _with_query(url: str, q: Mapping[str, str]) -> str:
        return url + "?" + encode_query(q) if q else url


def _path(url: str) -> str:
    return urllib.parse.urlsplit(url).path


class _ReadService(Generic[T]):
    """list, iter and get of a collection."""

    _col: _Collection[T]

    async def list(
        self,
        *,
        filter: Filter | str | None = None,  # noqa: A002
        fields: str | Iterable[str] | None = None,
        exclude_fields: str | Iterable[str] | None = None,
        all_fields: bool = False,
        exclude_default: bool = False,
        limit: int | None = None,
        marker: str | None = None,
    ) -> Page[T]:
        """One page of the objects the parameters select (SOL013): a
        ``filter`` (a :class:`Filter` or its text), attribute selectors
        ``fields``, ``exclude_fields``, ``all_fields``, ``exclude_default``,
        the page size ``limit`` (1 to 1000; the server's default is 100) and
        the ``marker`` of a previous page's ``next_marker``."""
        return await self._col.list(
            list_params(
                filter=filter,
                fields=fields,
                exclude_fields=exclude_fields,
                all_fields=all_fields,
                exclude_default=exclude_default,
                limit=limit,
                marker=marker,
            )
        )

    async def iter(
        self,
        *,
        filter: Filter | str | None = None,  # noqa: A002
        fields: str | Iterable[str] | None = None,
        exclude_fields: str | Iterable[str] | None = None,
        all_fields: bool = False,
        exclude_default: bool = False,
        limit: int | None = None,
        marker: str | None = None,
    ) -> AsyncIterator[T]:
        """Every object the parameters select, page after page (following
        each page's ``Link: <…>; rel="next"``): ``async for o in …iter()``."""
        q = list_params(
            filter=filter,
            fields=fields,
            exclude_fields=exclude_fields,
            all_fields=all_fields,
            exclude_default=exclude_default,
            limit=limit,
            marker=marker,
        )
        async for it in self._col.iter(q):
            yield it

    async def get(self, id: str) -> T:  # noqa: A002
        """The object with identifier ``id``, with all its attributes; a
        ProblemError with status 404 when there is none."""
        return await self._col.get(id)


class ResourceTypes(_ReadService[ResourceType]):
    """The resource types of the inventory (O2ims_InfrastructureInventory)."""

    def __init__(self, client: O2IMSClient) -> None:
        self._col = _Collection(client, ResourceType, "resource type", INVENTORY, "resourceTypes")

    async def alarm_dictionary(self, id: str) -> AlarmDictionary:  # noqa: A002
        """The alarm dictionary of the resource type ``id``."""
        return await self._col.get(id, self._col.item_url(id, "alarmDictionary"), AlarmDictionary)


class ResourcePools(_ReadService[ResourcePool]):
    """The resource pools of the inventory (O2ims_InfrastructureInventory)."""

    def __init__(self, client: O2IMSClient) -> None:
        self._col = _Collection(client, ResourcePool, "resource pool", INVENTORY, "resourcePools")

    async def list(  # type: ignore[override]
        self,
        *,
        filter: Filter | str | None = None,  # noqa: A002
        fields: str | Iterable[str] | None = None,
        exclude_fields: str | Iterable[str] | None = None,
        all_fields: bool = False,
        exclude_default: bool = False,
        limit: int | None = None,
        marker: str | None = None,
        min_capacity: str | Mapping[str, Any] | None = None,
        changed_since: str | None = None,
    ) -> Page[ResourcePool]:
        """One page of the resource pools the parameters select.
        ``min_capacity`` keeps the pools with at least that much free
        capacity: a mapping such as ``{"cpu": "4", "memory": "8Gi",
        "pods": 10}`` (sent as ``cpu:4,memory:8Gi,pods:10``) or that text.
        Pools whose capacity is unknown never match. ``changed_since``, the
        ``change_stamp`` of an earlier page, lists only the pools changed
        since, with the deleted ones in ``page.deleted`` (through the
        Nephoran ``/o2ims/v1/resourcePools``, which follows changes)."""
        q = list_params(
            filter=filter,
            fields=fields,
            exclude_fields=exclude_fields,
            all_fields=all_fields,
            exclude_default=exclude_default,
            limit=limit,
            marker=marker,
            min_capacity=min_capacity,
            changed_since=changed_since,
        )
        if changed_since:
            return await self._col.list(q, url=self._col._http.url(NEPHORAN, "resourcePools"))
        return await self._col.list(q)

    async def iter(  # type: ignore[override]
        self,
        *,
        filter: Filter | str | None = None,  # noqa: A002
        fields: str | Iterable[str] | None = None,
        exclude_fields: str | Iterable[str] | None = None,
        all_fields: bool = False,
        exclude_default: bool = False,
        limit: int | None = None,
        marker: str | None = None,
        min_capacity: str | Mapping[str, Any] | None = None,
    ) -> AsyncIterator[ResourcePool]:
        """Every resource pool the parameters select, page after page."""
        q = list_params(
            filter=filter,
            fields=fields,
            exclude_fields=exclude_fields,
            all_fields=all_fields,
            exclude_default=exclude_default,
            limit=limit,
            marker=marker,
            min_capacity=min_capacity,
        )
        async for it in self._col.iter(q):
            yield it


class Resources(_ReadService[Resource]):
    """The resources of the inventory: across every pool (the Nephoran
    ``/o2ims/v1/resources``), or in one pool with ``pool_id=``."""

    def __init__(self, client: O2IMSClient) -> None:
        self._client = client
        self._col = _Collection(client, Resource, "resource", NEPHORAN, "resources")
        self._pools = _Collection(client, ResourcePool, "resource pool", INVENTORY, "resourcePools")

    def _url(self, pool_id: str | None) -> str | None:
        return None if pool_id is None else self._pools.item_url(pool_id, "resources")

    async def list(  # type: ignore[override]
        self,
        *,
        pool_id: str | None = None,
        filter: Filter | str | None = None,  # noqa: A002
        fields: str | Iterable[str] | None = None,
        exclude_fields: str | Iterable[str] | None = None,
        all_fields: bool = False,
        exclude_default: bool = False,
        limit: int | None = None,
        marker: str | None = None,
    ) -> Page[Resource]:
        """One page of the resources the parameters select, of the pool
        ``pool_id`` or of every pool. An unknown pool is a 404 problem."""
        q = list_params(
            filter=filter,
            fields=fields,
            exclude_fields=exclude_fields,
            all_fields=all_fields,
            exclude_default=exclude_default,
            limit=limit,
            marker=marker,
        )
        return await self._col.list(q, self._url(pool_id))

    async def iter(  # type: ignore[override]
        self,
        *,
        pool_id: str | None = None,
        filter: Filter | str | None = None,  # noqa: A002
        fields: str | Iterable[str] | None = None,
        exclude_fields: str | Iterable[str] | None = None,
        all_fields: bool = False,
        exclude_default: bool = False,
        limit: int | None = None,
        marker: str | None = None,
    ) -> AsyncIterator[Resource]:
        """Every resource the parameters select, of one pool or of all."""
        q = list_params(
            filter=filter,
            fields=fields,
            exclude_fields=exclude_fields,
            all_fields=all_fields,
            exclude_default=exclude_default,
            limit=limit,
            marker=marker,
        )
        async for it in self._col.iter(q, self._url(pool_id)):
            yield it

    async def get(self, id: str, *, pool_id: str | None = None) -> Resource:  # type: ignore[override]  # noqa: A002
        """The resource ``id`` with all its attributes, looked up in the pool
        ``pool_id`` or in any pool."""
        url = self._col.item_url(id)  # checks id
        if pool_id is not None:
            url = self._pools.item_url(pool_id, "resources", id)
        return await self._col.get(id, url)


class DeploymentManagers(_ReadService[DeploymentManager]):
    """The deployment managers of the inventory (O2ims_InfrastructureInventory)."""

    def __init__(self, client: O2IMSClient) -> None:
        self._col = _Collection(client, DeploymentManager, "deployment manager", INVENTORY, "deploymentManagers")


class AlarmDictionaries(_ReadService[AlarmDictionary]):
    """The alarm dictionaries (O2ims_InfrastructureInventory)."""

    def __init__(self, client: O2IMSClient) -> None:
        self._col = _Collection(client, AlarmDictionary, "alarm dictionary", INVENTORY, "alarmDictionaries")


class ProbableCauses(_ReadService[ProbableCause]):
    """The probable causes of alarms (O2ims_InfrastructureMonitoring)."""

    def __init__(self, client: O2IMSClient) -> None:
        self._col = _Collection(client, ProbableCause, "probable cause", MONITORING, "alarmProbableCauses")


def _subscription_body(callback: str, filter: Filter | str | None, consumer_subscription_id: str | None) -> dict[str, str]:  # noqa: A002
    if not callback:
        raise ValueError("a subscription needs a callback URL")
    body = {"callback": callback}
    if consumer_subscription_id:
        body["consumerSubscriptionId"] = consumer_subscription_id
    f = _as_filter(filter)
    if not f.is_zero():
        body["filter"] = str(f)
    return body


class Subscriptions(_ReadService[Subscription]):
    """The inventory subscriptions (O2ims_InfrastructureInventory)."""

    def __init__(self, client: O2IMSClient) -> None:
        self._col = _Collection(client, Subscription, "subscription", INVENTORY, "subscriptions")

    async def create(
        self,
        callback: str,
        *,
        filter: Filter | str | None = None,  # noqa: A002
        consumer_subscription_id: str | None = None,
    ) -> Subscription:
        """Subscribe ``callback`` (an absolute http(s) URL) to the inventory
        changes ``filter`` selects (besides the object's attributes,
        ``objectType`` and ``notificationEventType``). Never retried. A bad
        callback or filter is a 400 problem; the same callback with an
        equivalent filter, 409."""
        return await self._col.create(_subscription_body(callback, filter, consumer_subscription_id))

    async def delete(self, id: str) -> None:  # noqa: A002
        """Delete the subscription ``id``; nothing more is delivered."""
        await self._col.delete(id)


class AlarmSubscriptions(_ReadService[AlarmSubscriptionInfo]):
    """The alarm subscriptions (O2ims_InfrastructureMonitoring)."""

    def __init__(self, client: O2IMSClient) -> None:
        self._col = _Collection(client, AlarmSubscriptionInfo, "alarm subscription", MONITORING, "alarmSubscriptions")

    async def create(
        self,
        callback: str,
        *,
        filter: Filter | str | None = None,  # noqa: A002
        consumer_subscription_id: str | None = None,
    ) -> AlarmSubscriptionInfo:
        """Subscribe ``callback`` to the alarm events ``filter`` selects,
        such as ``and_(eq("notificationEventType", "NEW"),
        lte("perceivedSeverity", 1))``. Never retried."""
        return await self._col.create(_subscription_body(callback, filter, consumer_subscription_id))

    async def delete(self, id: str) -> None:  # noqa: A002
        """Delete the alarm subscription ``id``."""
        await self._col.delete(id)


class Alarms(_ReadService[AlarmEventRecord]):
    """The alarms of the O-Cloud (O2ims_InfrastructureMonitoring)."""

    def __init__(self, client: O2IMSClient) -> None:
        self._col = _Collection(client, AlarmEventRecord, "alarm", MONITORING, "alarms")

    async def acknowledge(self, id: str) -> AlarmEventRecordModifications:  # noqa: A002
        """Acknowledge the alarm ``id`` (merge patch ``{"alarmAcknowledged":
        true}``). Never retried. Acknowledging twice is a 409 problem."""
        resp = await self._col.patch(id, {"alarmAcknowledged": True})
        return self._col._decode_one(resp, AlarmEventRecordModifications)

    async def clear(self, id: str) -> AlarmEventRecordModifications:  # noqa: A002
        """Clear the alarm ``id`` by hand (merge patch
        ``{"perceivedSeverity": 5}``). Never retried. An alarm that clears
        automatically, or is cleared already, is a 409 problem."""
        resp = await self._col.patch(id, {"perceivedSeverity": 5})
        return self._col._decode_one(resp, AlarmEventRecordModifications)


class AlarmServiceConfigurationService:
    """The alarm service configuration (O2ims_InfrastructureMonitoring)."""

    def __init__(self, client: O2IMSClient) -> None:
        self._http = client._transport
        self.url = self._http.url(MONITORING, "alarmServiceConfiguration")

    async def get(self) -> AlarmServiceConfiguration:
        resp = await self._http.request("GET", self.url)
        return AlarmServiceConfiguration.from_dict(resp.json() or {})

    async def replace(self, config: AlarmServiceConfiguration | Mapping[str, Any]) -> AlarmServiceConfiguration:
        """PUT the whole configuration (retried like every PUT)."""
        body = _encode_model(config, AlarmServiceConfiguration)
        resp = await self._http.request("PUT", self.url, body=_body(body))
        return AlarmServiceConfiguration.from_dict(resp.json() or {})

    async def patch(self, *, retention_period: int | None = None, extensions: Mapping[str, Any] | None = None) -> AlarmServiceConfiguration:
        """Merge-patch the configuration, such as ``retention_period=7``
        (days cleared alarms are kept). Never retried."""
        body: dict[str, Any] = {}
        if retention_period is not None:
            body["retentionPeriod"] = retention_period
        if extensions is not None:
            body["extensions"] = dict(extensions)
        resp = await self._http.request("PATCH", self.url, body=_body(body), content_type=_MERGE_PATCH)
        return AlarmServiceConfiguration.from_dict(resp.json() or {})


class Providers(_ReadService[Provider]):
    """The infrastructure providers (Nephoran extensions)."""

    def __init__(self, client: O2IMSClient) -> None:
        self._client = client
        self._col = _Collection(client, Provider, "provider", NEPHORAN, "providers")

    async def create(
        self,
        name: str,
        *,
        kubeconfig: str | None = None,
        kubeconfig_path: str | None = None,
        context: str | None = None,
        type: str = "kubernetes",  # noqa: A002
    ) -> Provider:
        """Register a Kubernetes cluster: an inline ``kubeconfig`` (stored
        encrypted; the server needs a secrets key, else 422; credentials
        inline, no exec plugins or file references, else 400) or a
        ``kubeconfig_path`` naming a file of the server's provider
        credentials directory, relative to it. Never retried."""
        if not name:
            raise ValueError("a provider needs a name")
        config: dict[str, str] = {}
        if kubeconfig:
            config["kubeconfig"] = kubeconfig
        if kubeconfig_path:
            config["kubeconfigPath"] = kubeconfig_path
        if context:
            config["context"] = context
        return await self._col.create({"name": name, "type": type or "kubernetes", "config": config})

    async def delete(self, id: str) -> None:  # noqa: A002
        """Remove the provider ``id`` and every object it reported. A
        built-in or configured provider is a 409 problem."""
        await self._col.delete(id)

    async def health(self) -> list[ProviderStatus]:
        """The health of every provider."""
        resp = await self._col._http.request("GET", self._col._http.url(NEPHORAN, "providers", "health"))
        return [ProviderStatus.from_dict(o) for o in resp.json() or [] if isinstance(o, dict)]


class CnfPackages(_ReadService[CnfPackage]):
    """The CNF packages (Nephoran extensions)."""

    def __init__(self, client: O2IMSClient) -> None:
        self._col = _Collection(client, CnfPackage, "CNF package", NEPHORAN, "cnfPackages")

    async def upload(
        self,
        metadata: CnfPackageMetadata | Mapping[str, Any],
        content: bytes | str | os.PathLike[str] | Any,
        *,
        filename: str | None = None,
    ) -> CnfPackage:
        """Register a CNF package: its ``metadata`` (name, version,
        vnfdInfo.vnfdId, flavours, …) and ``content``, a Helm chart
        archive or a kpt package (bytes, a path, or a binary file),
        sent as multipart/form-data. The IMS validates the content first
        (400 when it is invalid; a packageId in use is 409). Never retried."""
        meta = _encode_model(metadata, CnfPackageMetadata)
        if isinstance(content, (str, os.PathLike)):
            path = os.fspath(content)
            with open(path, "rb") as fh:
                data = fh.read(MAX_PACKAGE_BYTES + 1)
            filename = filename or os.path.basename(path)
        elif isinstance(content, (bytes, bytearray, memoryview)):
            data = bytes(content)
        elif hasattr(content, "read"):
            data = content.read(MAX_PACKAGE_BYTES + 1)
            name = getattr(content, "name", None)
            if isinstance(name, str) and not filename:
                filename = os.path.basename(name)
        else:
            raise TypeError("package content is bytes, a path or a binary file")
        if len(data) > MAX_PACKAGE_BYTES:
            raise ValueError(f"package content exceeds {MAX_PACKAGE_BYTES} bytes")
        body, content_type = _multipart(
            [("metadata", None, json.dumps(meta).encode(), None), ("content", filename or "package", data, "application/octet-stream")]
        )
        resp = await self._col._http.request("POST", self._col.url, body=body, content_type=content_type)
        return self._col._decode_one(resp)

    async def delete(self, id: str) -> None:  # noqa: A002
        """Delete the package ``id``; one that instances use is a 409 problem."""
        await self._col.delete(id)


def _multipart(parts: list[tuple[str, str | None, bytes, str | None]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = bytearray()
    for name, filename, data, ctype in parts:
        out += f"--{boundary}\r\n".encode()
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            safe = filename.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "")
            disposition += f'; filename="{safe}"'
        out += f"Content-Disposition: {disposition}\r\n".encode()
        if ctype:
            out += f"Content-Type: {ctype}\r\n".encode()
        out += b"\r\n" + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


class LcmOpOccs(_ReadService[LcmOpOcc]):
    """The lifecycle operation occurrences of CNF instances."""

    def __init__(self, client: O2IMSClient) -> None:
        self._client = client
        self._col = _Collection(client, LcmOpOcc, "lifecycle operation", NEPHORAN, "lcmOpOccs")

    async def wait(self, id: str, *, timeout: float | None = None) -> LcmOpOcc:  # noqa: A002
        """Poll the operation ``id`` until it ends and return it. FAILED or
        ROLLED_BACK raise :class:`OperationError`; running out of
        ``timeout`` seconds, :class:`WaitTimeout`."""
        op = await _poll(
            lambda: self.get(id),
            lambda o: o.operation_state in _FINAL_OPS,
            timeout,
            lambda o: f"{o.operation} operation {id} is {o.operation_state}",
        )
        if op.operation_state != OperationState.COMPLETED:
            raise OperationError(op)
        return op


_FINAL_OPS = (OperationState.COMPLETED, OperationState.FAILED, OperationState.ROLLED_BACK)


class CnfInstances(_ReadService[CnfInstance]):
    """The CNF instances and their lifecycle (Nephoran extensions)."""

    def __init__(self, client: O2IMSClient) -> None:
        self._client = client
        self._col = _Collection(client, CnfInstance, "CNF instance", NEPHORAN, "cnfInstances")

    async def create(
        self,
        vnfd_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        flavour_id: str | None = None,
    ) -> CnfInstance:
        """Create a NOT_INSTANTIATED instance of the package implementing
        ``vnfd_id``. Never retried."""
        if not vnfd_id:
            raise ValueError("a CNF instance needs a vnfd_id")
        body = {"vnfdId": vnfd_id}
        if name:
            body["vnfInstanceName"] = name
        if description:
            body["vnfInstanceDescription"] = description
        if flavour_id:
            body["flavourId"] = flavour_id
        return await self._col.create(body)

    async def delete(self, id: str) -> None:  # noqa: A002
        """Delete the NOT_INSTANTIATED instance ``id`` (else a 409 problem)."""
        await self._col.delete(id)

    async def instantiate(
        self,
        id: str,  # noqa: A002
        *,
        flavour_id: str,
        deployment_manager_id: str,
        resource_pool_id: str | None = None,
        namespace: str | None = None,
        additional_params: Mapping[str, Any] | None = None,
    ) -> LcmOpOcc:
        """Start deploying the instance onto a deployment manager (a
        Kubernetes cluster) and pool; returns the operation (wait for it
        with ``lcm_op_occs.wait``). Never retried."""
        if not deployment_manager_id:
            raise ValueError("instantiate needs a deployment_manager_id")
        body: dict[str, Any] = {"flavourId": flavour_id, "deploymentManagerId": deployment_manager_id}
        if resource_pool_id:
            body["resourcePoolId"] = resource_pool_id
        if namespace:
            body["namespace"] = namespace
        if additional_params:
            body["additionalParams"] = dict(additional_params)
        return await self._start(id, "instantiate", body)

    async def scale(
        self,
        id: str,  # noqa: A002
        aspect_id: str,
        *,
        type: str = "SCALE_OUT",  # noqa: A002
        number_of_steps: int | None = None,
    ) -> LcmOpOcc:
        """Scale the aspect ``aspect_id`` of the instance out (SCALE_OUT) or
        in (SCALE_IN) by ``number_of_steps`` (default 1). Never retried."""
        if str(type) not in ("SCALE_OUT", "SCALE_IN"):
            raise ValueError(f"scale type is SCALE_OUT or SCALE_IN, not {type!r}")
        if not aspect_id:
            raise ValueError("scale needs an aspect_id")
        body: dict[str, Any] = {"type": str(type), "aspectId": aspect_id}
        if number_of_steps is not None:
            if number_of_steps < 1:
                raise ValueError("number_of_steps is at least 1")
            body["numberOfSteps"] = number_of_steps
        return await self._start(id, "scale", body)

    async def terminate(
        self,
        id: str,  # noqa: A002
        *,
        termination_type: str = "GRACEFUL",
        graceful_termination_timeout: int | None = None,
    ) -> LcmOpOcc:
        """Remove everything the instance deployed (GRACEFUL or FORCEFUL;
        the timeout in seconds). Never retried."""
        body: dict[str, Any] = {"terminationType": str(termination_type or "GRACEFUL")}
        if graceful_termination_timeout is not None:
            if graceful_termination_timeout < 0:
                raise ValueError("graceful_termination_timeout is not negative")
            body["gracefulTerminationTimeout"] = int(graceful_termination_timeout)
        return await self._start(id, "terminate", body)

    async def wait_for_state(self, id: str, phase: str, *, timeout: float | None = None) -> CnfInstance:  # noqa: A002
        """Poll the instance until its phase is ``phase`` (or FAILED, which
        raises O2IMSError unless asked for)."""
        inst = await _poll(
            lambda: self.get(id),
            lambda i: i.phase in (phase, "FAILED"),
            timeout,
            lambda i: f"CNF instance {id} is {i.phase}, not {phase}",
        )
        if inst.phase != phase:
            raise O2IMSError(f"CNF instance {id} is {inst.phase}, not {phase}")
        return inst

    async def _start(self, id: str, task: str, body: Mapping[str, Any]) -> LcmOpOcc:  # noqa: A002
        resp = await self._col._http.request("POST", self._col.item_url(id, task), body=_body(body))
        data = resp.json()
        op = LcmOpOcc.from_dict(data) if isinstance(data, dict) else LcmOpOcc()
        if not op.id:
            loc = resp.headers.get("Location")
            if loc:
                op.id = posixpath.basename(urllib.parse.urlsplit(loc).path)
        if not op.id:
            raise O2IMSError(f"the answer to {task} of CNF instance {id} names no operation")
        return op


class Deployments(_ReadService[Deployment]):
    """Deployments: named sets of CNF components the IMS places on pools
    and runs (Nephoran extensions)."""

    def __init__(self, client: O2IMSClient) -> None:
        self._client = client
        self._col = _Collection(client, Deployment, "deployment", NEPHORAN, "deployments")

    async def list(  # type: ignore[override]
        self,
        *,
        filter: Filter | str | None = None,  # noqa: A002
        fields: str | Iterable[str] | None = None,
        exclude_fields: str | Iterable[str] | None = None,
        all_fields: bool = False,
        exclude_default: bool = False,
        limit: int | None = None,
        marker: str | None = None,
        changed_since: str | None = None,
    ) -> Page[Deployment]:
        """One page of the deployments the parameters select;
        ``changed_since`` (an earlier page's ``change_stamp``) lists only
        those changed since, with the deleted ones in ``page.deleted``."""
        return await self._col.list(
            list_params(
                filter=filter,
                fields=fields,
                exclude_fields=exclude_fields,
                all_fields=all_fields,
                exclude_default=exclude_default,
                limit=limit,
                marker=marker,
                changed_since=changed_since,
            )
        )

    def _with_etag(self, resp: Response) -> Deployment:
        d = self._col._decode_one(resp)
        d.etag = resp.headers.get("ETag")
        return d

    async def get(self, id: str) -> Deployment:  # noqa: A002
        """The deployment ``id``, with its ``etag``."""
        return self._with_etag(await self._col._http.request("GET", self._col.item_url(id)))

    async def create(self, spec: DeploymentSpec | Mapping[str, Any], *, dry_run: bool = False) -> Deployment:
        """Place and create a deployment from ``spec`` (a DeploymentSpec or
        a mapping with the API's or the Python attribute names); it starts
        PENDING (:meth:`wait` for ACTIVE). With ``dry_run`` (or
        ``dryRun`` in the spec) the answer is the plan and nothing is
        created. Never retried. When no pool fits, or a package is unknown,
        a 422 problem whose detail names why each pool was refused; a name
        in use, 409."""
        body = _encode_model(spec, DeploymentSpec)
        if not body.get("name"):
            raise ValueError("a deployment spec needs a name")
        placement = body.get("placement")
        if isinstance(placement, dict) and isinstance(placement.get("minCapacity"), Mapping):
            placement["minCapacity"] = encode_resource_list(placement["minCapacity"])
        if dry_run:
            body["dryRun"] = True
        return self._with_etag(await self._col._http.request("POST", self._col.url, body=_body(body)))

    async def update(
        self,
        id: str,  # noqa: A002
        patch: DeploymentPatch | Mapping[str, Any],
        *,
        if_match: str | None = None,
    ) -> Deployment:
        """Merge-patch the description or the component replicas
        (``{"components": [{"name": "amf", "replicas": 3}]}``); a change of
        replicas scales (SCALING, then SCALED). ``if_match`` (an ``etag``)
        makes it conditional: 412 when the deployment changed. Never
        retried."""
        body = _encode_model(patch, DeploymentPatch)
        headers = {"If-Match": if_match} if if_match else None
        return self._with_etag(await self._col.patch(id, body, headers))

    async def scale(self, id: str, component: str, replicas: int, *, if_match: str | None = None) -> Deployment:  # noqa: A002
        """Set the replicas of one component of the deployment ``id``."""
        return await self.update(id, {"components": [{"name": component, "replicas": replicas}]}, if_match=if_match)

    async def update_status(
        self,
        id: str,  # noqa: A002
        update: DeploymentStatusUpdate | Mapping[str, Any] | None = None,
        *,
        phase: str | None = None,
        message: str | None = None,
        package_revision: str | None = None,
        conditions: Iterable[Any] | None = None,
        resource_version: int | None = None,
        if_match: str | None = None,
    ) -> Deployment:
        """Report the status of an external controller (PUT …/status):
        phase, message, package revision and conditions (merged by type),
        guarded by ``resource_version`` (409) or ``if_match`` (412)."""
        body = _encode_model(update, DeploymentStatusUpdate)
        for key, value in (
            ("phase", phase),
            ("message", message),
            ("packageRevision", package_revision),
            ("resourceVersion", resource_version),
        ):
            if value is not None:
                body[key] = str(value) if key == "phase" else value
        if conditions is not None:
            body["conditions"] = [c.dict() if isinstance(c, Model) else dict(c) for c in conditions]
        headers = {"If-Match": if_match} if if_match else None
        resp = await self._col._http.request(
            "PUT", self._col.item_url(id, "status"), body=_body(body), headers=headers
        )
        return self._with_etag(resp)

    async def delete(self, id: str) -> Deployment | None:  # noqa: A002
        """Start deleting the deployment ``id`` (DELETING until its CNF
        instances are gone, then 404: :meth:`wait_deleted`)."""
        resp = await self._col.delete(id)
        data = resp.json()
        return Deployment.from_dict(data) if isinstance(data, dict) else None

    async def wait(self, id: str, phase: str = DeploymentPhase.ACTIVE, *, timeout: float | None = None) -> Deployment:  # noqa: A002
        """Poll the deployment ``id`` until it reaches ``phase`` and return
        it. One that turns FAILED first raises :class:`DeploymentError`."""

        def done(d: Deployment) -> bool:
            if d.phase == DeploymentPhase.FAILED and phase != DeploymentPhase.FAILED:
                raise DeploymentError(d)
            return d.phase == phase

        return await _poll(lambda: self.get(id), done, timeout, lambda d: f"deployment {id} is {d.phase}, not {phase}")

    async def wait_deleted(self, id: str, *, timeout: float | None = None) -> None:  # noqa: A002
        """Poll the deployment ``id`` until it is gone."""

        async def gone() -> bool:
            try:
                await self.get(id)
            except O2IMSError as e:
                if is_not_found(e):
                    return True
                raise
            return False

        await _poll(gone, bool, timeout, lambda _: f"deployment {id} is not deleted")


class Advisor(_ReadService[Recommendation]):
    """The advisor: deployment plans for network intents, placed on the
    live inventory, priced and explained (Nephoran extension)."""

    def __init__(self, client: O2IMSClient) -> None:
        self._col = _Collection(client, Recommendation, "recommendation", NEPHORAN, "advisor", "recommendations")

    async def recommend(
        self,
        intent: str,
        *,
        target_components: Iterable[str] | None = None,
        region: str | None = None,
        replicas: int | None = None,
        network_slice: str | None = None,
        constraints: Mapping[str, Any] | None = None,
    ) -> Recommendation:
        """Ask for a plan for ``intent`` (e.g. "Deploy 5G AMF with high
        availability in US West region"); the answer is stored, and its
        ``plan`` can be given to ``deployments.create`` as it is. Never
        retried. An intent that fits no pool is a 422 problem naming why
        each pool was refused."""
        if not intent:
            raise ValueError("an intent is required")
        body: dict[str, Any] = {"intent": intent}
        if target_components is not None:
            body["targetComponents"] = list(target_components)
        for key, value in (("region", region), ("replicas", replicas), ("networkSlice", network_slice)):
            if value is not None:
                body[key] = value
        if constraints:
            c = dict(constraints)
            if isinstance(c.get("minCapacity"), Mapping):
                c["minCapacity"] = encode_resource_list(c["minCapacity"])
            body["constraints"] = c
        return await self._col.create(body)


# Waits between the GETs of the wait methods: from 250 ms, doubling, at
# most 2 s, with jitter.
POLL_INITIAL = 0.25
POLL_MAX = 2.0


async def _poll(
    fetch: Callable[[], Awaitable[Any]],
    done: Callable[[Any], bool],
    timeout: float | None,
    describe: Callable[[Any], str],
) -> Any:
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    d = POLL_INITIAL
    last = None
    while True:
        last = await fetch()
        if done(last):
            return last
        wait = d / 2 + random.uniform(0, d / 2)
        if deadline is not None:
            left = deadline - loop.time()
            if left <= 0:
                raise WaitTimeout(f"timed out after {timeout}s: {describe(last)}", last)
            wait = min(wait, left)
        await asyncio.sleep(wait)
        d = min(2 * d, POLL_MAX)
