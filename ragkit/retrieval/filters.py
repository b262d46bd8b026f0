"""Metadata filters (``where``) shared by every retriever.

A filter is a mapping from a metadata field to a condition; all conditions must hold::

    where:
      department: engineering                  # equality
      tags: {in: [pricing, billing]}           # value in list (list-valued fields: any overlap)
      last_modified: {gte: 2024-01-01, lt: 2025-01-01}   # ranges on dates / numbers / strings
      author: {ne: bob}

Operators: ``eq``, ``ne``, ``in``, ``nin``, ``gt``, ``gte``, ``lt``, ``lte``. Dates
(YAML dates, ``datetime``) and ISO-8601 strings compare chronologically. A chunk
whose field is missing never matches (except for ``ne`` / ``nin``).
"""

from __future__ import annotations

import datetime as _dt
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ragkit.errors import ConfigError

_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
OPERATORS = (*_CMP, "in", "nin")
_MISSING = object()


def _norm(v: Any) -> Any:
    if isinstance(v, (_dt.datetime, _dt.date)):
        return v.isoformat()
    return v


def _as_list(v: Any) -> list:
    return list(v) if isinstance(v, (list, tuple, set, frozenset)) else [v]


def _test(op: str, value: Any, target: Any) -> bool:
    if value is _MISSING:
        return op in ("ne", "nin")
    values = [_norm(x) for x in _as_list(value)]
    if op in ("in", "nin"):
        targets = {_norm(t) for t in _as_list(target)}
        hit = any(v in targets for v in values)
        return hit if op == "in" else not hit
    target = _norm(target)
    try:
        if op == "ne":
            return all(v != target for v in values)
        return any(_CMP[op](v, target) for v in values)
    except TypeError:  # e.g. comparing a number with a string: no match rather than a crash
        return False


def compile_filter(where: Mapping[str, Any] | None) -> Callable[[Mapping[str, Any]], bool]:
    """A predicate over a metadata mapping. Raises ConfigError on an unknown operator."""
    if not where:
        return lambda meta: True
    if not isinstance(where, Mapping):
        raise ConfigError(f"where: expected a mapping of field -> condition, got {type(where).__name__} {where!r}")
    conds: list[tuple[str, str, Any]] = []
    for field, cond in where.items():
        if isinstance(cond, Mapping):
            for op, target in cond.items():
                if op not in OPERATORS:
                    raise ConfigError(
                        f"where.{field}: unknown operator '{op}'; allowed: {', '.join(OPERATORS)}"
                    )
                if op in ("in", "nin") and not isinstance(target, (list, tuple, set)):
                    raise ConfigError(f"where.{field}.{op}: expected a list, got {target!r}")
                conds.append((field, op, target))
        else:
            conds.append((field, "eq", cond))

    def predicate(meta: Mapping[str, Any]) -> bool:
        return all(_test(op, meta.get(f, _MISSING), t) for f, op, t in conds)

    return predicate


def filter_mask(where: Mapping[str, Any] | None, metadatas: Sequence[Mapping[str, Any]]) -> np.ndarray | None:
    """Boolean mask of the items whose metadata matches ``where``; ``None`` when there is no filter."""
    if not where:
        return None
    pred = compile_filter(where)
    return np.fromiter((pred(m) for m in metadatas), dtype=bool, count=len(metadatas))
