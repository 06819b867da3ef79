"""Python client of the Nephoran O2 IMS.

The O-RAN O2ims_InfrastructureInventory and O2ims_InfrastructureMonitoring
APIs and the Nephoran extensions (providers, CNF lifecycle, deployments),
with the SOL013 query language, on the standard library only::

    import asyncio
    from nephoran_o2ims import O2IMSClient, eq

    async def main():
        client = O2IMSClient("http://127.0.0.1:8080")  # or O2IMS_ENDPOINT
        for pool in await client.resource_pools.list(all_fields=True):
            print(pool.name, pool.provider)
        async for r in client.resources.iter(filter=eq("tags", "disk"), limit=50):
            print(r.resource_id, r.description)

    asyncio.run(main())

``SyncO2IMSClient`` (or ``O2IMSClient(...).sync()``) offers the same
services as blocking calls.
"""

from ._http import RetryPolicy
from ._mixins import DeliveryStatus
from ._model import Model
from ._version import __version__
from .auth import SCOPE_READ, SCOPE_WRITE, BearerToken, OAuth2ClientCredentials
from .capacity import PoolCapacity, ResourceList
from .client import O2IMSClient, SyncO2IMSClient
from .enums import (
    AlarmEventType,
    CnfPhase,
    DeploymentPhase,
    InstantiationState,
    InventoryEventType,
    OperationState,
    PerceivedSeverity,
    ResourceClass,
    ResourceKind,
    ScaleType,
    TerminationType,
)
from .errors import (
    DeploymentError,
    O2IMSConnectionError,
    O2IMSError,
    OAuth2Error,
    OperationError,
    ProblemError,
    WaitTimeout,
    is_auth_error,
    is_bad_request,
    is_conflict,
    is_forbidden,
    is_not_found,
    is_precondition_failed,
    is_unauthorized,
    is_unprocessable,
    status_code,
)
from .filter import Filter, and_, cont, eq, gt, gte, in_, lt, lte, ncont, neq, nin, quote, raw
from .models import *  # noqa: F401,F403 - the generated models
from .models import __all__ as _models
from .services import MAX_LIMIT, Page

#: AlarmSubscriptionInfo, by the name the Go SDK gives it.
AlarmSubscription = AlarmSubscriptionInfo  # noqa: F405

__all__ = [
    "MAX_LIMIT",
    "SCOPE_READ",
    "SCOPE_WRITE",
    "AlarmEventType",
    "AlarmSubscription",
    "BearerToken",
    "CnfPhase",
    "DeliveryStatus",
    "DeploymentError",
    "DeploymentPhase",
    "Filter",
    "InstantiationState",
    "InventoryEventType",
    "Model",
    "O2IMSClient",
    "O2IMSConnectionError",
    "O2IMSError",
    "OAuth2ClientCredentials",
    "OAuth2Error",
    "OperationError",
    "OperationState",
    "Page",
    "PerceivedSeverity",
    "PoolCapacity",
    "ProblemError",
    "ResourceClass",
    "ResourceKind",
    "ResourceList",
    "RetryPolicy",
    "ScaleType",
    "SyncO2IMSClient",
    "TerminationType",
    "WaitTimeout",
    "__version__",
    "and_",
    "cont",
    "eq",
    "gt",
    "gte",
    "in_",
    "is_auth_error",
    "is_bad_request",
    "is_conflict",
    "is_forbidden",
    "is_not_found",
    "is_precondition_failed",
    "is_unauthorized",
    "is_unprocessable",
    "lt",
    "lte",
    "ncont",
    "neq",
    "nin",
    "quote",
    "raw",
    "status_code",
    *_models,
]
