"""ETSI GS NFV-SOL 013 attribute filters, built as the Go SDK builds them.

A filter is a conjunction of terms such as ``(eq,name,'my pool')``::

    from nephoran_o2ims import and_, eq, in_

    f = and_(eq("name", "my pool"), in_("extensions/provider", "aws", "azure"))
    str(f)  # "(eq,name,'my pool');(in,extensions/provider,aws,azure)"

Attribute paths into complex attributes use ``/`` (``extensions/provider``).
Values are quoted exactly as ``pkg/client/filter.go`` quotes them: a value
that is empty or holds a comma, a parenthesis, a single quote, a semicolon,
a slash or white space is enclosed in single quotes, each single quote
inside doubled.
"""

from __future__ import annotations

import enum
import math
from decimal import Decimal
from typing import Union

__all__ = [
    "Filter",
    "FilterValue",
    "and_",
    "cont",
    "eq",
    "gt",
    "gte",
    "in_",
    "lt",
    "lte",
    "ncont",
    "neq",
    "nin",
    "quote",
    "raw",
]

#: The types a filter value may have (and enums of them).
FilterValue = Union[str, bool, int, float, enum.Enum]

# The characters that make quote() enclose a value in single quotes.
_SPECIAL = frozenset(",()';/ \t\r\n")


class Filter:
    """A SOL013 filter: terms joined by ``;``, all of which must hold.

    Build one with :func:`eq`, :func:`in_` and the other operator functions
    and combine filters with :func:`and_` (or ``&``). ``Filter()`` has no
    term and matches every object. ``str(f)`` is the filter as sent.
    """

    __slots__ = ("_terms",)

    def __init__(self, terms: tuple[str, ...] | list[str] = ()) -> None:
        self._terms = tuple(terms)

    @property
    def terms(self) -> tuple[str, ...]:
        """The terms, each ``(op,attr,value...)``."""
        return self._terms

    def is_zero(self) -> bool:
        """Whether the filter has no term and so matches every object."""
        return not self._terms

    def __str__(self) -> str:
        return ";".join(self._terms)

    def __repr__(self) -> str:
        return f"Filter({str(self)!r})"

    def __bool__(self) -> bool:
        return bool(self._terms)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Filter) and other._terms == self._terms

    def __hash__(self) -> int:
        return hash(self._terms)

    def __and__(self, other: Filter) -> Filter:
        return and_(self, other)


def quote(value: str) -> str:
    """Return ``value`` as a SOL013 filter value, quoted when it must be."""
    if value != "" and not any(c in _SPECIAL for c in value):
        return value
    return "'" + value.replace("'", "''") + "'"


def _format(value: FilterValue) -> str:
    """Render a filter value as text, as the Go SDK's format does."""
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "+Inf" if value > 0 else "-Inf"
        # The shortest representation that reads back as the same number,
        # never in exponent form: strconv.FormatFloat(v, 'f', -1, 64).
        text = format(Decimal(repr(value)), "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text
    if isinstance(value, str):
        return str.__str__(value)
    raise TypeError(f"a filter value is a str, bool, int or float, not {type(value).__name__}")


def _term(op: str, attr: str, *values: FilterValue) -> Filter:
    if not isinstance(attr, str) or attr == "":
        raise ValueError("a filter term needs an attribute")
    parts = [op, attr]
    parts.extend(quote(_format(v)) for v in values)
    return Filter(("(" + ",".join(parts) + ")",))


def eq(attr: str, value: FilterValue) -> Filter:
    """Objects whose ``attr`` equals ``value``; for a list attribute such as
    ``tags``, objects where one element equals it."""
    return _term("eq", attr, value)


def neq(attr: str, value: FilterValue) -> Filter:
    """Objects whose ``attr`` differs from ``value`` (or is absent)."""
    return _term("neq", attr, value)


def gt(attr: str, value: FilterValue) -> Filter:
    """Objects whose ``attr`` is greater than ``value``."""
    return _term("gt", attr, value)


def gte(attr: str, value: FilterValue) -> Filter:
    """Objects whose ``attr`` is greater than or equal to ``value``."""
    return _term("gte", attr, value)


def lt(attr: str, value: FilterValue) -> Filter:
    """Objects whose ``attr`` is less than ``value``."""
    return _term("lt", attr, value)


def lte(attr: str, value: FilterValue) -> Filter:
    """Objects whose ``attr`` is less than or equal to ``value``."""
    return _term("lte", attr, value)


def in_(attr: str, *values: FilterValue) -> Filter:
    """Objects whose ``attr`` equals one of ``values``."""
    return _term("in", attr, *values)


def nin(attr: str, *values: FilterValue) -> Filter:
    """Objects whose ``attr`` equals none of ``values``."""
    return _term("nin", attr, *values)


def cont(attr: str, *values: str) -> Filter:
    """Objects whose string ``attr`` contains one of ``values``."""
    return _term("cont", attr, *values)


def ncont(attr: str, *values: str) -> Filter:
    """Objects whose string ``attr`` contains none of ``values``."""
    return _term("ncont", attr, *values)


def and_(first: Filter | str, *more: Filter | str) -> Filter:
    """The filter matching the objects every one of the filters matches.
    Filters without terms are ignored; strings are taken as :func:`raw`."""
    terms: list[str] = []
    for f in (first, *more):
        terms.extend(_as_filter(f).terms)
    return Filter(terms)


def raw(expr: str) -> Filter:
    """An already written filter expression, such as a command-line value,
    sent unchanged (the server validates it). ``raw("")`` has no term."""
    return Filter((expr,)) if expr else Filter()


def _as_filter(f: Filter | str | None) -> Filter:
    if f is None:
        return Filter()
    if isinstance(f, Filter):
        return f
    if isinstance(f, str):
        return raw(f)
    raise TypeError(f"a filter is a Filter or a str, not {type(f).__name__}")
