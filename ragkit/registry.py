"""String-keyed registries of components, and the component/config base classes.

A component is a small class with a ``name`` (its key in configs), a pydantic
``Config`` whose fields are exactly its constructor's keyword arguments, and a
``config`` attribute holding the validated values::

    >>> from ragkit.registry import CHUNKERS
    >>> chunker = CHUNKERS.create("chars", {"size": 500, "overlap": 100})
    >>> chunker.config.size
    500

Built-ins are listed by import path so that ``import ragkit`` stays light; a
component module is imported the first time its name is asked for. Third-party
plug-ins register through the ``ragkit.plugins`` entry-point group (the entry
point is a module that calls ``REGISTRY.register`` on import).
"""

from __future__ import annotations

import hashlib
import importlib
import json
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from ragkit.errors import ConfigError, did_you_mean

T = TypeVar("T")


class ComponentConfig(BaseModel):
    """Base of every component config: unknown keys are rejected, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def format_validation_error(err: ValidationError, prefix: str = "") -> list[str]:
    """One line per problem, each naming the dotted field path, the value received and what is allowed."""
    lines = []
    for e in err.errors():
        path = ".".join(str(p) for p in (prefix, *e["loc"]) if p != "")
        got = e.get("input")
        got_s = "" if e["type"] == "missing" else f" (got {got!r})"
        lines.append(f"{path or '<root>'}: {e['msg']}{got_s}")
    return lines


class Component:
    """Base of configurable components: ``Cls(**params)`` validates params against ``Cls.Config``."""

    name: ClassVar[str] = ""
    Config: ClassVar[type[ComponentConfig]] = ComponentConfig

    def __init__(self, **params: Any) -> None:
        try:
            self.config = self.Config(**params)
        except ValidationError as err:
            problems = "; ".join(format_validation_error(err))
            raise ConfigError(f"invalid config for {self.kind_name()} '{self.name}': {problems}") from None

    @classmethod
    def kind_name(cls) -> str:
        return getattr(cls, "kind", "component")

    def config_dict(self) -> dict[str, Any]:
        """The config as plain JSON-able values (round-trips through ``Cls(**d)``)."""
        return self.config.model_dump(mode="json")

    def fingerprint(self) -> str:
        """Stable hash of name + config, used as a cache key."""
        return config_hash({"name": self.name, "config": self.config_dict()})

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config_dict().items())
        return f"{type(self).__name__}({args})"


def config_hash(obj: Any, length: int = 16) -> str:
    """sha256 of the canonical JSON of ``obj`` (sorted keys), truncated to ``length`` hex chars."""
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:length]


class Registry(Generic[T]):
    """Maps config names to component classes.

    Args:
        kind: what the registry holds, used in error messages ("chunker", "retriever").
        builtins: name -> "module:Class" for built-ins, imported lazily on first use.
    """

    def __init__(self, kind: str, builtins: dict[str, str] | None = None) -> None:
        self.kind = kind
        self._lazy = dict(builtins or {})
        self._classes: dict[str, type[T]] = {}

    def register(self, name: str):
        """Class decorator: ``@CHUNKERS.register("chars")``."""

        def deco(cls: type[T]) -> type[T]:
            cls.name = name  # type: ignore[attr-defined]
            cls.kind = self.kind  # type: ignore[attr-defined]
            self._classes[name] = cls
            return cls

        return deco

    def names(self) -> list[str]:
        _load_plugins()
        return sorted(set(self._lazy) | set(self._classes))

    def get(self, name: str) -> type[T]:
        """The class registered under ``name``; ConfigError with a suggestion if unknown."""
        if name not in self._classes and name in self._lazy:
            module, _, attr = self._lazy[name].partition(":")
            cls = getattr(importlib.import_module(module), attr)
            self._classes.setdefault(name, cls)
        if name not in self._classes:
            _load_plugins()
        if name not in self._classes:
            names = self.names()
            hint = did_you_mean(name, names)
            raise ConfigError(f"unknown {self.kind} '{name}'; registered: {', '.join(names)}.{hint}")
        return self._classes[name]

    def create(self, name: str, params: dict[str, Any] | None = None) -> T:
        """Build the component ``name`` from a config dict."""
        return self.get(name)(**(params or {}))

    def __contains__(self, name: str) -> bool:
        return name in self.names()


_plugins_loaded = False


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    from importlib.metadata import entry_points

    for ep in entry_points(group="ragkit.plugins"):
        ep.load()


CHUNKERS: Registry = Registry(
    "chunker",
    {
        "chars": "ragkit.chunking.chars:CharChunker",
        "tokens": "ragkit.chunking.tokens:TokenChunker",
        "sentences": "ragkit.chunking.sentences:SentenceChunker",
        "markdown": "ragkit.chunking.markdown:MarkdownChunker",
    },
)
RETRIEVERS: Registry = Registry(
    "retriever",
    {
        "bm25": "ragkit.retrieval.bm25:BM25Retriever",
        "dense": "ragkit.retrieval.dense:DenseRetriever",
        "hybrid": "ragkit.retrieval.hybrid:HybridRetriever",
    },
)
RERANKERS: Registry = Registry(
    "reranker",
    {
        "cross_encoder": "ragkit.rerank.cross_encoder:CrossEncoderReranker",
        "late_interaction": "ragkit.rerank.late_interaction:LateInteractionReranker",
    },
)
LLMS: Registry = Registry(
    "llm backend",
    {
        "transformers": "ragkit.synth.llm.transformers_lm:TransformersLLM",
        "openai": "ragkit.synth.llm.openai_api:OpenAILLM",
    },
)


def named_component(value: dict[str, Any], what: str, example: str) -> dict[str, Any]:
    """A component given in a config as ``{name: ..., **params}``; a ValueError shows the expected form."""
    if "name" not in value:
        raise ValueError(f"give the {what} as {{name: {example}, ...params}}; got {value!r}")
    return value
