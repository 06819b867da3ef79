"""Named values of the O2 IMS APIs.

Model attributes hold the plain values the server sends (``"ACTIVE"``,
``0``), so an unknown value never breaks decoding; these enums compare
equal to them (``deployment.status.phase == DeploymentPhase.ACTIVE``) and
may be passed wherever a value is expected, filters included.
"""

from __future__ import annotations

import enum

__all__ = [
    "AlarmEventType",
    "CnfPhase",
    "DeploymentPhase",
    "InstantiationState",
    "InventoryEventType",
    "OperationState",
    "PerceivedSeverity",
    "ResourceClass",
    "ResourceKind",
    "ScaleType",
    "TerminationType",
]


class _StrEnum(str, enum.Enum):
    def __str__(self) -> str:
        return self.value


class DeploymentPhase(_StrEnum):
    """Where a deployment is: PENDING → DEPLOYING → ACTIVE; SCALING → SCALED
    after a change of replicas; DEGRADED; FAILED; DELETING until it is gone."""

    PENDING = "PENDING"
    DEPLOYING = "DEPLOYING"
    ACTIVE = "ACTIVE"
    SCALING = "SCALING"
    SCALED = "SCALED"
    DEGRADED = "DEGRADED"
    FAILED = "FAILED"
    DELETING = "DELETING"


class PerceivedSeverity(enum.IntEnum):
    """The severity of an alarm, a number in JSON and in filters."""

    CRITICAL = 0
    MAJOR = 1
    MINOR = 2
    WARNING = 3
    INDETERMINATE = 4
    CLEARED = 5


class InventoryEventType(enum.IntEnum):
    """``notificationEventType`` of inventory notifications."""

    CREATE = 0
    MODIFY = 1
    DELETE = 2


class AlarmEventType(enum.IntEnum):
    """``notificationEventType`` of alarm notifications."""

    NEW = 0
    CHANGE = 1
    CLEAR = 2
    ACKNOWLEDGE = 3


class ResourceKind(_StrEnum):
    UNDEFINED = "UNDEFINED"
    PHYSICAL = "PHYSICAL"
    LOGICAL = "LOGICAL"


class ResourceClass(_StrEnum):
    UNDEFINED = "UNDEFINED"
    COMPUTE = "COMPUTE"
    NETWORKING = "NETWORKING"
    STORAGE = "STORAGE"


class InstantiationState(_StrEnum):
    NOT_INSTANTIATED = "NOT_INSTANTIATED"
    INSTANTIATED = "INSTANTIATED"


class CnfPhase(_StrEnum):
    """``phase`` of a CNF instance."""

    NOT_INSTANTIATED = "NOT_INSTANTIATED"
    INSTANTIATING = "INSTANTIATING"
    INSTANTIATED = "INSTANTIATED"
    SCALING = "SCALING"
    TERMINATING = "TERMINATING"
    FAILED = "FAILED"


class OperationState(_StrEnum):
    """``operationState`` of a lifecycle operation occurrence."""

    STARTING = "STARTING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    ROLLED_BACK = "ROLLED_BACK"

    @property
    def final(self) -> bool:
        return self in (OperationState.COMPLETED, OperationState.FAILED, OperationState.ROLLED_BACK)


class ScaleType(_StrEnum):
    SCALE_OUT = "SCALE_OUT"
    SCALE_IN = "SCALE_IN"


class TerminationType(_StrEnum):
    GRACEFUL = "GRACEFUL"
    FORCEFUL = "FORCEFUL"
