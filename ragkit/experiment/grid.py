"""Grid expansion: component specs with list values -> concrete component specs -> cells.

A list value expands into one variant per element, unless the component's config
field itself takes a list (e.g. ``hybrid.weights``); such a field expands only when
given a list of lists. The experiment grid is the product chunkers x retrievers.

>>> expand_values({"name": "chars", "size": [400, 800]}, list_fields=set())
[{'name': 'chars', 'size': 400}, {'name': 'chars', 'size': 800}]
"""

from __future__ import annotations

import itertools
import typing
from dataclasses import dataclass, field
from typing import Any

from ragkit.registry import Registry, config_hash


@dataclass(frozen=True)
class ComponentSpec:
    """A concrete component: registry name, params, and a short label for tables."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    label: str = ""

    def key(self) -> str:
        return config_hash({"name": self.name, "params": self.params})


@dataclass(frozen=True)
class Cell:
    """One configuration of the grid."""

    chunker: ComponentSpec
    retriever: ComponentSpec
    reranker: ComponentSpec | None = None

    @property
    def name(self) -> str:
        tail = f" | {self.reranker.label}" if self.reranker else ""
        return f"{self.chunker.label} | {self.retriever.label}{tail}"

    def key(self) -> str:
        parts = [self.chunker.key(), self.retriever.key()]
        return config_hash(parts + [self.reranker.key()] if self.reranker else parts)


def _accepts_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, set):
        return True
    return any(_accepts_list(a) for a in typing.get_args(annotation)) if origin is not None else annotation in (list, tuple)


def list_fields(registry: Registry, name: str) -> set[str]:
    """Config fields of component ``name`` that take a list themselves."""
    cls = registry.get(name)
    return {k for k, f in cls.Config.model_fields.items() if _accepts_list(f.annotation)}


def expand_values(spec: dict[str, Any], list_fields: set[str]) -> list[dict[str, Any]]:
    """All combinations of the list-valued params of one spec (``name``/``label`` never expand)."""
    keys, choices = [], []
    for k, v in spec.items():
        if k in ("name", "label"):
            continue
        is_list = isinstance(v, list)
        expands = is_list and (k not in list_fields or (v and all(isinstance(x, list) for x in v)))
        if expands:
            if not v:
                continue
            keys.append(k)
            choices.append(v)
    if not keys:
        return [dict(spec)]
    out = []
    for combo in itertools.product(*choices):
        out.append({**spec, **dict(zip(keys, combo))})
    return out


def _label(spec: dict[str, Any], varying: set[str]) -> str:
    shown = [f"{k}={_short(v)}" for k, v in spec.items() if k in varying]
    return str(spec.get("label") or spec["name"]) + (f"({', '.join(shown)})" if shown else "")


def _short(v: Any) -> str:
    if isinstance(v, list):
        return "[" + ",".join(_short(x) for x in v) + "]"
    if isinstance(v, dict):
        return v.get("name") or ",".join(f"{k}={_short(x)}" for k, x in v.items())
    return str(v)


def expand_components(specs: list[dict[str, Any]], registry: Registry) -> list[ComponentSpec]:
    """Concrete component specs for a config list, labelled by the params that tell them apart."""
    concrete = []
    for spec in specs:
        concrete += expand_values(spec, list_fields(registry, spec["name"]))
    out, seen = [], set()
    for spec in concrete:
        same_name = [s for s in concrete if (s.get("label"), s["name"]) == (spec.get("label"), spec["name"])]
        keys = {k for s in same_name for k in s if k not in ("name", "label")}
        varying = {k for k in keys if len({repr(s.get(k)) for s in same_name}) > 1}
        params = {k: v for k, v in spec.items() if k not in ("name", "label")}
        cs = ComponentSpec(spec["name"], params, _label(spec, varying))
        if cs.key() not in seen:
            seen.add(cs.key())
            out.append(cs)
    _dedupe_labels(out)
    return out


def _dedupe_labels(specs: list[ComponentSpec]) -> None:
    counts: dict[str, int] = {}
    for i, s in enumerate(specs):
        n = counts.get(s.label, 0)
        counts[s.label] = n + 1
        if n:
            specs[i] = ComponentSpec(s.name, s.params, f"{s.label}#{n + 1}")


@dataclass(frozen=True)
class Grid:
    """The expanded components of an experiment; ``None`` in ``rerankers`` means "no rerank stage"."""

    chunkers: list[ComponentSpec]
    retrievers: list[ComponentSpec]
    rerankers: list[ComponentSpec | None] = field(default_factory=lambda: [None])

    def cells(self) -> list[Cell]:
        return [Cell(c, r, x) for c in self.chunkers for r in self.retrievers for x in self.rerankers]
