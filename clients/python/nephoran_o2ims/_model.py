"""The base class of the generated models: decoding, encoding, unknown attributes."""

from __future__ import annotations

import builtins
import dataclasses
import enum
import json
from collections.abc import Mapping
from typing import Any, ClassVar, NamedTuple, TypeVar

from .capacity import ResourceList

__all__ = ["Model", "field_", "model_class"]

M = TypeVar("M", bound="Model")

# Every model class by name, for decoding nested objects.
_MODELS: dict[str, type[Model]] = {}

# The scalar kinds of field_ (anything else names a model).
SCALARS = frozenset({"str", "int", "float", "bool", "dict", "any"})


def field_(json_name: str, type_name: str, *, many: bool = False) -> Any:
    """A model attribute: its JSON name, its type (a scalar kind or a model
    name) and whether it is a list of that type. It defaults to None."""
    return dataclasses.field(default=None, metadata={"json": json_name, "type": type_name, "many": many})


def model_class(name: str) -> type[Model]:
    """The model class called ``name``."""
    return _MODELS[name]


class _Field(NamedTuple):
    attr: str
    json: str
    type: str
    many: bool


class _Spec(NamedTuple):
    fields: tuple[_Field, ...]
    by_json: dict[str, _Field]
    by_attr: dict[str, _Field]


_SPECS: dict[type, _Spec] = {}


def _spec(cls: type) -> _Spec:
    spec = _SPECS.get(cls)
    if spec is None:
        fs = tuple(
            _Field(f.name, f.metadata["json"], f.metadata["type"], f.metadata["many"])
            for f in dataclasses.fields(cls)
            if f.metadata.get("json")
        )
        spec = _Spec(fs, {f.json: f for f in fs}, {f.attr: f for f in fs})
        _SPECS[cls] = spec
    return spec


@dataclasses.dataclass(kw_only=True, repr=False)
class Model:
    """An object of the O2 IMS APIs.

    Attributes are the snake_case forms of the API's names
    (``resourcePoolId`` is ``resource_pool_id``); all default to None.
    ``extra`` keeps every attribute of the server's answer the model does
    not know, so nothing is lost when the server is newer than the client.
    """

    #: Attributes of the answer the specs do not name, by their JSON name.
    extra: builtins.dict[str, Any] = dataclasses.field(default_factory=builtins.dict)

    #: Where the schema of the model is, as file#/json/pointer.
    __schema__: ClassVar[str] = ""
    #: The attribute holding the object's identifier, if it has one.
    __id_field__: ClassVar[str | None] = None
    #: The JSON names the schema requires.
    __required__: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _MODELS[cls.__name__] = cls

    @property
    def id(self) -> Any:
        """The object's identifier (such as ``resource_pool_id``)."""
        name = type(self).__id_field__
        if not name:
            raise AttributeError(f"{type(self).__name__} has no identifier")
        return getattr(self, name)

    @classmethod
    def from_dict(cls: type[M], data: Mapping[str, Any] | M) -> M:
        """The model of a decoded JSON object. Keys may be the API's names
        or the attribute names; unknown keys go to ``extra``. Values of an
        unexpected type are kept as they are, never refused."""
        if isinstance(data, cls):
            return data
        if isinstance(data, Model):
            data = data.dict()
        if not isinstance(data, Mapping):
            raise TypeError(f"{cls.__name__} is decoded from a mapping, not {type(data).__name__}")
        spec = _spec(cls)
        kwargs: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in data.items():
            f = spec.by_json.get(key) or spec.by_attr.get(key)
            if f is None or (f.attr in kwargs and key != f.json):
                extra[key] = value
                continue
            kwargs[f.attr] = _decode(value, f)
        return cls(extra=extra, **kwargs)

    def dict(self, *, by_alias: bool = True, exclude_none: bool = True) -> builtins.dict[str, Any]:
        """The object as a JSON-ready dict, with the API's attribute names
        (``by_alias=False``: the Python names) and the ``extra`` attributes;
        attributes that are None are left out unless ``exclude_none`` is
        False."""
        out: builtins.dict[str, Any] = {}
        for f in _spec(type(self)).fields:
            v = getattr(self, f.attr)
            if v is None and exclude_none:
                continue
            out[f.json if by_alias else f.attr] = _encode(v, by_alias, exclude_none)
        for k, v in self.extra.items():
            out.setdefault(k, _encode(v, by_alias, exclude_none))
        return out

    def to_json(self, **kwargs: Any) -> str:
        """``json.dumps`` of :meth:`dict`."""
        return json.dumps(self.dict(), **kwargs)

    def __getitem__(self, key: str) -> Any:
        """The attribute called ``key`` (API or Python name, or an extra one)."""
        spec = _spec(type(self))
        f = spec.by_json.get(key) or spec.by_attr.get(key)
        if f is not None:
            v = getattr(self, f.attr)
            if v is not None:
                return v
        if key in self.extra:
            return self.extra[key]
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        """Like ``dict.get``, on the attributes the server sent."""
        try:
            return self[key]
        except KeyError:
            return default

    def __repr__(self) -> str:
        parts = [f"{f.attr}={getattr(self, f.attr)!r}" for f in _spec(type(self)).fields if getattr(self, f.attr) is not None]
        if self.extra:
            parts.append(f"extra={self.extra!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


def _decode(value: Any, f: _Field) -> Any:
    if f.type in SCALARS:
        return value
    cls = _MODELS[f.type]
    if f.many:
        if isinstance(value, list):
            return [cls.from_dict(v) if isinstance(v, Mapping) else v for v in value]
        return value
    if isinstance(value, Mapping):
        return cls.from_dict(value)
    return value


def _encode(value: Any, by_alias: bool, exclude_none: bool) -> Any:
    if isinstance(value, Model):
        return value.dict(by_alias=by_alias, exclude_none=exclude_none)
    if isinstance(value, ResourceList):
        return value.encode()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {k: _encode(v, by_alias, exclude_none) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v, by_alias, exclude_none) for v in value]
    return value
