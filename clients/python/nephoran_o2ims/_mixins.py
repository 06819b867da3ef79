"""Behaviour added to generated models (tools/genmodels names these mixins).

The mixins hold no dataclass fields; they read the attributes the
generated classes define.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from .capacity import PoolCapacity
from .enums import OperationState, PerceivedSeverity

if TYPE_CHECKING:  # pragma: no cover
    from .models import Capacity, DeploymentComponent, DeploymentSpec

__all__ = [
    "AlarmEventRecordMixin",
    "CnfInstanceMixin",
    "DeliveryStatus",
    "DeploymentMixin",
    "DeploymentSpecMixin",
    "LcmOpOccMixin",
    "ResourcePoolMixin",
    "SubscriptionMixin",
]


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


class DeploymentSpecMixin:
    """A deployment's spec: what was asked for."""

    components: Any

    @property
    def replicas(self) -> int:
        """The replicas of all components (a component without a count has 1)."""
        total = 0
        for c in _items(self.components):
            n = getattr(c, "replicas", None)
            total += n if isinstance(n, int) and not isinstance(n, bool) else 1
        return total

    def component(self, name: str) -> DeploymentComponent | None:
        """The component called ``name``, or None."""
        for c in _items(self.components):
            if getattr(c, "name", None) == name:
                return c
        return None


class DeploymentMixin(DeploymentSpecMixin):
    """A deployment as the IMS keeps it: its spec, identifier and status."""

    #: The entity tag of this version, for ``if_match``; set by the
    #: deployments service's get, create, update and update_status.
    etag: str | None = None

    status: Any
    deployment_id: Any

    @property
    def id(self) -> str | None:
        """The deployment's identifier (``deploymentId``); None on a dry run."""
        return self.deployment_id

    @property
    def phase(self) -> str | None:
        """``status.phase``."""
        return getattr(self.status, "phase", None)

    @property
    def spec(self) -> DeploymentSpec:
        """The spec attributes of the deployment (name, description,
        components, resource pools, placement, network requirements,
        reserveCapacity, failover) as a DeploymentSpec, which can be
        submitted again; ``spec.replicas`` sums the components' replicas."""
        from .models import DeploymentSpec

        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(DeploymentSpec) if f.name != "extra"}
        return DeploymentSpec(**values)


class ResourcePoolMixin:
    """Helpers on a resource pool's extensions."""

    extensions: Any

    @property
    def provider(self) -> str | None:
        """``extensions.provider``: kubernetes, local, … (None when
        extensions were not selected)."""
        ext = self.extensions or {}
        return ext.get("provider")

    def capacity(self) -> PoolCapacity | None:
        """``extensions.capacity`` decoded, or None when the pool reports
        none (extensions not selected, or a provider without figures)."""
        from .models import Capacity

        ext = self.extensions or {}
        raw = ext.get("capacity")
        if not isinstance(raw, dict):
            return None

        def part(name: str) -> Capacity:
            v = raw.get(name)
            return Capacity.from_dict(v if isinstance(v, dict) else {})

        return PoolCapacity(part("allocatable"), part("requested"), part("reserved"), part("free"))


@dataclasses.dataclass(frozen=True)
class DeliveryStatus:
    """How notifications of a subscription are delivered, from its read-only
    ``extensions.deliveryStatus``."""

    state: str | None = None
    retrying_since: str | None = None
    attempts: int | None = None
    next_attempt_at: str | None = None
    last_error: str | None = None
    last_delivered_at: str | None = None
    delivered: int | None = None
    expired: int | None = None
    raw: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)

    @property
    def healthy(self) -> bool:
        return self.state == "healthy"


class SubscriptionMixin:
    """Helpers on inventory and alarm subscriptions."""

    extensions: Any

    @property
    def delivery_status(self) -> DeliveryStatus | None:
        """``extensions.deliveryStatus``, or None when it was not selected."""
        ext = self.extensions or {}
        raw = ext.get("deliveryStatus")
        if not isinstance(raw, dict):
            return None
        return DeliveryStatus(
            state=raw.get("state"),
            retrying_since=raw.get("retryingSince"),
            attempts=raw.get("attempts"),
            next_attempt_at=raw.get("nextAttemptAt"),
            last_error=raw.get("lastError"),
            last_delivered_at=raw.get("lastDeliveredAt"),
            delivered=raw.get("delivered"),
            expired=raw.get("expired"),
            raw=dict(raw),
        )


class AlarmEventRecordMixin:
    """Helpers on alarms."""

    perceived_severity: Any

    @property
    def severity(self) -> PerceivedSeverity | int | None:
        """The perceived severity as a :class:`PerceivedSeverity` when it is
        one of the known values."""
        v = self.perceived_severity
        try:
            return PerceivedSeverity(v)
        except (ValueError, TypeError):
            return v

    @property
    def cleared(self) -> bool:
        return self.perceived_severity == PerceivedSeverity.CLEARED


class CnfInstanceMixin:
    """Helpers on CNF instances."""

    instantiated_cnf_info: Any

    @property
    def replicas(self) -> int | None:
        info = self.instantiated_cnf_info
        return info.replicas if info is not None else None


class LcmOpOccMixin:
    """Helpers on lifecycle operation occurrences."""

    operation_state: Any

    @property
    def final(self) -> bool:
        """Whether the operation has ended (COMPLETED, FAILED, ROLLED_BACK)."""
        return self.operation_state in (OperationState.COMPLETED, OperationState.FAILED, OperationState.ROLLED_BACK)
