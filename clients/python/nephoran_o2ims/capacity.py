"""Amounts of compute: the ``minCapacity`` form and a pool's capacity."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union

__all__ = ["CPU", "MEMORY", "PODS", "PoolCapacity", "ResourceList", "encode_resource_list"]

#: The resources a :class:`ResourceList` may name.
CPU = "cpu"
MEMORY = "memory"
PODS = "pods"


class ResourceList(dict):
    """An amount of compute by resource, each a Kubernetes quantity:
    ``ResourceList(cpu="4", memory="8Gi", pods=10)``.

    ``str()`` renders it as the IMS reads it, ``cpu:4,memory:8Gi,pods:10``
    (names sorted), for the ``min_capacity`` of resource pool lists and
    ``placement.minCapacity`` of deployments.
    """

    def encode(self) -> str:
        """The ``cpu:4,memory:8Gi`` form; ValueError for an empty name or
        quantity, or one holding ``,`` or ``:``."""
        return encode_resource_list(self)

    def __str__(self) -> str:
        return self.encode()

    @classmethod
    def parse(cls, value: str | Mapping[str, Any]) -> ResourceList:
        """Read the ``cpu:4,memory:8Gi`` form, or a mapping."""
        if isinstance(value, Mapping):
            return cls({str(k): _quantity(v) for k, v in value.items()})
        out = cls()
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            name, sep, q = item.partition(":")
            if not sep:
                raise ValueError(f"{item!r} is not a resource amount (write name:quantity, e.g. cpu:4)")
            out[name.strip()] = q.strip()
        return out


def _quantity(v: Any) -> str:
    if isinstance(v, bool):
        raise ValueError(f"{v!r} is not a quantity")
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v)


def encode_resource_list(value: Union[str, Mapping[str, Any]]) -> str:
    """Render a mapping as ``cpu:4,memory:8Gi,pods:10``, in name order, as
    the Go SDK does; a string is returned unchanged."""
    if isinstance(value, str):
        return value
    if not isinstance(value, Mapping):
        raise TypeError(f"a resource list is a mapping or a str, not {type(value).__name__}")
    parts = []
    items = {str(getattr(k, "value", k)): v for k, v in value.items()}
    for name in sorted(items):
        q = items[name]
        q = "" if q is None else _quantity(q)
        if name == "" or "," in name or ":" in name or q == "" or "," in q or ":" in q:
            raise ValueError(f"resource {name!r}: {q!r} is not a quantity")
        parts.append(f"{name}:{q}")
    return ",".join(parts)


@dataclass(frozen=True)
class PoolCapacity:
    """A resource pool's ``extensions.capacity``: ``free`` is
    ``allocatable - requested - reserved`` (held by deployments), each a
    :class:`~nephoran_o2ims.models.Capacity` in CPU millicores, memory bytes
    and pods."""

    allocatable: Any
    requested: Any
    reserved: Any
    free: Any
