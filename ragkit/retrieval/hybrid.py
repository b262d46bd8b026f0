"""Hybrid retrieval: several retrievers (BM25 + dense by default), one fused ranking.

Each sub-retriever returns its top ``max(depth, k)`` chunks; :mod:`ragkit.retrieval.fusion`
merges them (reciprocal rank fusion, or a weighted sum of normalised scores) and the
top ``k`` of the fused ranking are returned.

The fusion step is public (:meth:`HybridRetriever.fuse`) so that the experiment runner
can retrieve each sub-retriever once through its cache (:meth:`HybridRetriever.sub_specs`)
and then sweep fusion settings (``alpha``, ``rrf_k``, ``weights``) over the cached runs.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ragkit.data.types import Chunk, Query, Run
from ragkit.errors import ConfigError
from ragkit.registry import RETRIEVERS, ComponentConfig, format_validation_error
from ragkit.retrieval.base import Retriever
from ragkit.retrieval.fusion import rrf, weighted_sum

logger = logging.getLogger(__name__)


class RetrieverSpec(BaseModel):
    """One sub-retriever of a hybrid: its registry name and its config.

    Example:
        >>> RetrieverSpec(name="bm25", params={"k1": 0.9}).params
        {'k1': 0.9}
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    params: dict[str, Any] = Field(default_factory=dict)


def _default_retrievers() -> list[RetrieverSpec]:
    return [RetrieverSpec(name="bm25"), RetrieverSpec(name="dense")]


def _check_k(k: int, where: str) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ConfigError(f"{where}: k must be an integer >= 1, got {k!r}")


@RETRIEVERS.register("hybrid")
class HybridRetriever(Retriever):
    """Fuses the rankings of several retrievers into one.

    Sub-retrievers are built by name through the retriever registry, so plug-ins (and
    other hybrids) can be mixed in. Each one is asked for ``max(depth, k)`` chunks with
    the same ``where`` filter, then the runs are fused:

    - ``fusion="rrf"``: reciprocal rank fusion, ``sum_i w_i / (rrf_k + rank_i)``, with
      ``w_i = 1`` unless ``weights`` / ``alpha`` say otherwise;
    - ``fusion="weighted"``: ``sum_i w_i * norm_i(score)`` with per-query
      ``normalization``; equal weights ``1 / n`` unless ``weights`` / ``alpha`` are set.

    ``alpha`` (only with exactly two retrievers) is the weight of the first one, and
    ``1 - alpha`` that of the second; when it is set it overrides ``weights``. So
    ``alpha=0.5`` with ``fusion="weighted"`` is the default equal mix, and ``alpha=1``
    ranks by the first retriever alone.

    Sub-retrievers are built on first use (``index``, ``retrieve`` or ``retrievers``),
    not in the constructor, so a runner that only calls :meth:`fuse` on cached runs
    loads no model; their configs are still validated up front.

    Args:
        retrievers: the sub-retrievers, each ``{name, params}`` (a bare name means
            default params). Default: ``bm25`` and ``dense``.
        fusion: ``"rrf"`` or ``"weighted"``.
        rrf_k: the RRF constant (``>= 0``; 60 as in Cormack et al., 2009).
        normalization: score normalisation for ``fusion="weighted"``: ``"minmax"`` or ``"zscore"``.
        weights: one non-negative weight per sub-retriever, or ``None`` for equal weights.
        alpha: weight of the first of exactly two sub-retrievers, in ``[0, 1]``; overrides ``weights``.
        depth: candidates taken from each sub-retriever before fusion (at least ``k`` are taken).

    Example:
        >>> from ragkit.registry import RETRIEVERS
        >>> hybrid = RETRIEVERS.create("hybrid", {"fusion": "weighted", "alpha": 0.3})
        >>> hybrid.sub_specs()
        [('bm25', {}), ('dense', {})]
        >>> hybrid.fusion_weights()
        [0.3, 0.7]
    """

    class Config(ComponentConfig):
        retrievers: list[RetrieverSpec] = Field(default_factory=_default_retrievers, min_length=1)
        fusion: Literal["rrf", "weighted"] = "rrf"
        rrf_k: int = Field(60, ge=0)
        normalization: Literal["minmax", "zscore"] = "minmax"
        weights: list[float] | None = None
        alpha: float | None = Field(None, ge=0.0, le=1.0)
        depth: int = Field(100, ge=1)

        @field_validator("retrievers", mode="before")
        @classmethod
        def _bare_names(cls, value: Any) -> Any:
            # YAML shorthand: `retrievers: [bm25, dense]` means default params.
            if isinstance(value, (list, tuple)):
                return [{"name": v} if isinstance(v, str) else v for v in value]
            return value

        @model_validator(mode="after")
        def _check_weights(self) -> HybridRetriever.Config:
            n = len(self.retrievers)
            if self.weights is not None:
                if len(self.weights) != n:
                    raise ValueError(
                        f"weights has {len(self.weights)} values {self.weights} for {n} retrievers; "
                        "give one weight per retriever (same order), or leave weights unset for equal weights"
                    )
                if any(not math.isfinite(w) or w < 0 for w in self.weights):
                    raise ValueError(f"weights must be finite and >= 0, got {self.weights}")
            if self.alpha is not None and n != 2:
                raise ValueError(
                    f"alpha={self.alpha} needs exactly 2 retrievers, got {n}; use weights for {n} retrievers"
                )
            return self

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._validate_sub_configs()
        self._retrievers: list[Retriever] | None = None

    def _validate_sub_configs(self) -> None:
        """Resolve every sub-retriever name and validate its params, without building it."""
        for i, spec in enumerate(self.config.retrievers):
            try:
                cls = RETRIEVERS.get(spec.name)
            except ConfigError as err:
                raise ConfigError(f"invalid config for retriever 'hybrid': retrievers[{i}].name: {err}") from None
            try:
                cls.Config(**spec.params)
            except ValidationError as err:
                problems = "; ".join(format_validation_error(err, prefix=f"retrievers[{i}].params"))
                raise ConfigError(f"invalid config for retriever 'hybrid' (sub-retriever '{spec.name}'): {problems}") from None

    @property
    def retrievers(self) -> list[Retriever]:
        """The sub-retrievers, built through the registry on first access."""
        if self._retrievers is None:
            self._retrievers = [RETRIEVERS.create(name, params) for name, params in self.sub_specs()]
        return self._retrievers

    def sub_specs(self) -> list[tuple[str, dict[str, Any]]]:
        """``(name, params)`` of each sub-retriever, in fusion order (copies: safe to modify).

        The runner builds and caches these itself, then calls :meth:`fuse` on their runs.
        """
        return [(s.name, copy.deepcopy(s.params)) for s in self.config.retrievers]

    def fusion_weights(self) -> list[float] | None:
        """The per-retriever weights fusion uses: from ``alpha``, else ``weights``, else ``None`` (equal)."""
        if self.config.alpha is not None:
            return [self.config.alpha, 1.0 - self.config.alpha]
        if self.config.weights is not None:
            return list(self.config.weights)
        return None

    def index(self, chunks: Sequence[Chunk]) -> None:
        """Index ``chunks`` into every sub-retriever."""
        chunks = list(chunks)
        logger.info("hybrid: indexing %d chunks into %d retrievers", len(chunks), len(self.config.retrievers))
        for retriever in self.retrievers:
            retriever.index(chunks)

    def retrieve(self, queries: Sequence[Query], k: int = 10, where: Mapping[str, Any] | None = None) -> Run:
        """Top ``k`` fused chunks per query; each sub-retriever gives ``max(depth, k)`` candidates under ``where``."""
        _check_k(k, "hybrid.retrieve")
        depth = max(self.config.depth, k)
        runs = [r.retrieve(queries, k=depth, where=where) for r in self.retrievers]
        return self.fuse(runs, k)

    def fuse(self, runs: Sequence[Run], k: int) -> Run:
        """Fuse one run per sub-retriever (in :meth:`sub_specs` order) and keep the top ``k``.

        Each run is first cut to its top ``max(depth, k)`` hits, so runs retrieved (and
        cached) deeper than ``depth`` fuse exactly as :meth:`retrieve` would.

        Args:
            runs: the sub-retrievers' runs, same order as :meth:`sub_specs`.
            k: hits kept per query after fusion.

        Returns:
            The fused run, at most ``k`` hits per query, every query of every run.

        Raises:
            ConfigError: wrong number of runs, or ``k < 1``.
        """
        names = [s.name for s in self.config.retrievers]
        if len(runs) != len(names):
            raise ConfigError(
                f"hybrid.fuse: got {len(runs)} runs for {len(names)} sub-retrievers {names}; "
                "pass one run per sub-retriever, in the order of sub_specs()"
            )
        _check_k(k, "hybrid.fuse")
        depth = max(self.config.depth, k)
        cut = [run.cutoff(depth) for run in runs]
        weights = self.fusion_weights()
        if self.config.fusion == "rrf":
            fused = rrf(cut, k=self.config.rrf_k, weights=weights)
        else:
            fused = weighted_sum(cut, weights, normalization=self.config.normalization)
        return fused.cutoff(k)
