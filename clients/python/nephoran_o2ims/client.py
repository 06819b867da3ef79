"""The client: one connection to an O2 IMS, its services, and a blocking facade."""

from __future__ import annotations

import asyncio
import inspect
import os
import threading
from collections.abc import Iterable
from typing import Any

from ._version import __version__
from ._http import RetryPolicy, Transport, make_ssl_context
from .auth import BearerToken, OAuth2ClientCredentials
from .models import APIVersions, OCloudInfo
from .services import (
    INVENTORY,
    Advisor,
    AlarmDictionaries,
    Alarms,
    AlarmServiceConfigurationService,
    AlarmSubscriptions,
    CnfInstances,
    CnfPackages,
    DeploymentManagers,
    Deployments,
    LcmOpOccs,
    ProbableCauses,
    Providers,
    Resources,
    ResourcePools,
    ResourceTypes,
    Subscriptions,
)

__all__ = ["DEFAULT_TIMEOUT", "O2IMSClient", "SyncO2IMSClient"]

#: Seconds each HTTP attempt may take, when ``timeout`` is not given.
DEFAULT_TIMEOUT = 30.0

# The services of a client, by attribute name.
_SERVICES = {
    "resource_types": ResourceTypes,
    "resource_pools": ResourcePools,
    "resources": Resources,
    "deployment_managers": DeploymentManagers,
    "subscriptions": Subscriptions,
    "alarm_dictionaries": AlarmDictionaries,
    "alarms": Alarms,
    "alarm_subscriptions": AlarmSubscriptions,
    "alarm_service_configuration": AlarmServiceConfigurationService,
    "probable_causes": ProbableCauses,
    "providers": Providers,
    "cnf_packages": CnfPackages,
    "cnf_instances": CnfInstances,
    "lcm_op_occs": LcmOpOccs,
    "deployments": Deployments,
    "advisor": Advisor,
}


class O2IMSClient:
    """An asynchronous client of one O2 IMS.

    ``endpoint`` is the base URL of the IMS (``http://127.0.0.1:8080``, or
    behind a gateway with a path prefix); without it ``O2IMS_ENDPOINT`` is
    read. Requests authenticate with ``token`` (a bearer token; without it
    and without ``oauth2``, ``O2IMS_TOKEN`` is read) or with ``oauth2``,
    OAuth 2.0 client credentials: a tuple ``(token_url, client_id,
    client_secret, scopes)`` or an :class:`OAuth2ClientCredentials`.
    ``verify`` and ``cert`` configure TLS (see
    :func:`~nephoran_o2ims._http.make_ssl_context`): True, False, or the
    CA file to trust; the client certificate as ``(cert_file, key_file)``.
    ``timeout`` bounds each attempt; idempotent requests are retried after
    connection errors and 429/503 answers, ``max_retries`` times (or as
    ``retry``, a :class:`RetryPolicy`, says).

    Each service is an attribute: ``resource_types``, ``resource_pools``,
    ``resources``, ``deployment_managers``, ``subscriptions``, ``alarms``,
    ``alarm_subscriptions``, ``alarm_dictionaries``,
    ``alarm_service_configuration``, ``probable_causes``, ``providers``,
    ``cnf_packages``, ``cnf_instances``, ``lcm_op_occs`` and
    ``deployments``. HTTP runs with urllib in a worker thread
    (``asyncio.to_thread``), so the event loop is never blocked. The
    client is safe to share between tasks and threads.
    """

    resource_types: ResourceTypes
    resource_pools: ResourcePools
    resources: Resources
    deployment_managers: DeploymentManagers
    subscriptions: Subscriptions
    alarm_dictionaries: AlarmDictionaries
    alarms: Alarms
    alarm_subscriptions: AlarmSubscriptions
    alarm_service_configuration: AlarmServiceConfigurationService
    probable_causes: ProbableCauses
    providers: Providers
    cnf_packages: CnfPackages
    cnf_instances: CnfInstances
    lcm_op_occs: LcmOpOccs
    deployments: Deployments
    advisor: Advisor

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        token: str | None = None,
        oauth2: tuple[Any, ...] | OAuth2ClientCredentials | None = None,
        verify: Any = True,
        cert: Any = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        retry: RetryPolicy | None = None,
        user_agent: str | None = None,
    ) -> None:
        if endpoint is None:
            endpoint = os.environ.get("O2IMS_ENDPOINT", "")
        if token is not None and oauth2 is not None:
            raise ValueError("give token= or oauth2=, not both")
        if token is None and oauth2 is None:
            token = os.environ.get("O2IMS_TOKEN") or None
        auth: Any = None
        if oauth2 is not None:
            auth = oauth2 if isinstance(oauth2, OAuth2ClientCredentials) else _oauth2_from_tuple(oauth2)
        elif token:
            auth = BearerToken(token)
        self.auth = auth
        self._transport = Transport(
            endpoint,
            auth=auth,
            ssl_context=make_ssl_context(verify, cert),
            timeout=timeout,
            retry=retry or RetryPolicy(max_retries=max(0, max_retries)),
            user_agent=user_agent or f"nephoran-o2ims-python/{__version__}",
        )
        for name, cls in _SERVICES.items():
            setattr(self, name, cls(self))

    @property
    def endpoint(self) -> str:
        """The base URL the client addresses."""
        return self._transport.endpoint

    def __repr__(self) -> str:
        return f"O2IMSClient({self.endpoint!r})"

    async def cloud_info(self) -> OCloudInfo:
        """The O-Cloud the IMS manages."""
        resp = await self._transport.request("GET", self._transport.url(INVENTORY))
        return OCloudInfo.from_dict(resp.json() or {})

    async def api_versions(self) -> APIVersions:
        """The versions of the O2ims_InfrastructureInventory API the IMS
        supports."""
        resp = await self._transport.request("GET", self._transport.url("/o2ims-infrastructureInventory", "api_versions"))
        return APIVersions.from_dict(resp.json() or {})

    async def close(self) -> None:
        """Release the client (urllib keeps no connections open)."""

    async def __aenter__(self) -> O2IMSClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def sync(self) -> SyncO2IMSClient:
        """A blocking client sharing this one's configuration and token cache."""
        return SyncO2IMSClient(_client=self)


def _oauth2_from_tuple(t: tuple[Any, ...]) -> OAuth2ClientCredentials:
    if not isinstance(t, (tuple, list)) or not 2 <= len(t) <= 4:
        raise ValueError("oauth2 is (token_url, client_id, client_secret, scopes) or an OAuth2ClientCredentials")
    token_url, client_id = t[0], t[1]
    secret = t[2] if len(t) > 2 else ""
    scopes: Iterable[str] | str | None = t[3] if len(t) > 3 else None
    return OAuth2ClientCredentials(token_url, client_id, secret, scopes)


class SyncO2IMSClient:
    """The blocking form of :class:`O2IMSClient`, with the same arguments
    and services: ``client.resource_pools.list()`` returns the page,
    ``client.resource_pools.iter()`` is a plain iterator.

    The coroutines run on an event loop in a background thread of the
    client, so it may be used from any thread, also where an event loop
    runs already. Close it (or use it in a ``with`` block) to stop that
    thread.
    """

    def __init__(self, endpoint: str | None = None, *, _client: O2IMSClient | None = None, **kwargs: Any) -> None:
        self._async = _client if _client is not None else O2IMSClient(endpoint, **kwargs)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        for name in _SERVICES:
            setattr(self, name, _SyncService(self, getattr(self._async, name)))

    @property
    def endpoint(self) -> str:
        return self._async.endpoint

    @property
    def aio(self) -> O2IMSClient:
        """The asynchronous client this one drives."""
        return self._async

    def __repr__(self) -> str:
        return f"SyncO2IMSClient({self.endpoint!r})"

    def cloud_info(self) -> OCloudInfo:
        return self._run(self._async.cloud_info())

    def api_versions(self) -> APIVersions:
        return self._run(self._async.api_versions())

    def close(self) -> None:
        """Stop the background event loop."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
            if not loop.is_running():
                loop.close()

    def __enter__(self) -> SyncO2IMSClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:
            pass

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                thread = threading.Thread(target=run, name="nephoran-o2ims-sync", daemon=True)
                thread.start()
                ready.wait()
                self._loop, self._thread = loop, thread
            return self._loop

    def _run(self, coro: Any) -> Any:
        loop = self._ensure_loop()
        fut = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return fut.result()
        except BaseException:
            fut.cancel()
            raise


class _SyncService:
    """A service of the asynchronous client, with blocking methods."""

    def __init__(self, owner: SyncO2IMSClient, service: Any) -> None:
        self._owner = owner
        self._service = service

    def __repr__(self) -> str:
        return f"<blocking {type(self._service).__name__}>"

    def __dir__(self) -> list[str]:
        return [n for n in dir(self._service) if not n.startswith("_")]

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._service, name)
        if inspect.isasyncgenfunction(attr):

            def iterate(*args: Any, **kwargs: Any) -> Any:
                agen = attr(*args, **kwargs)
                run = self._owner._run
                try:
                    while True:
                        try:
                            item = run(agen.__anext__())
                        except StopAsyncIteration:
                            return
                        yield item
                finally:
                    run(agen.aclose())

            iterate.__doc__ = attr.__doc__
            iterate.__name__ = name
            return iterate
        if inspect.iscoroutinefunction(attr):

            def call(*args: Any, **kwargs: Any) -> Any:
                return self._owner._run(attr(*args, **kwargs))

            call.__doc__ = attr.__doc__
            call.__name__ = name
            return call
        return attr
