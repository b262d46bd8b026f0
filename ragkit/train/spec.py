"""The fine-tune config: YAML -> validated :class:`FinetuneSpec` (see ``experiments/finetune_scifact.yaml``).

Training questions come from exactly one source: a qrels ``split`` of a BEIR corpus,
a ``questions`` + ``qrels`` pair of files (gold, or a synthetic set written by
``ragkit synth``), or ``synthetic:`` (a generator config; questions are generated from
the corpus on the fly). Evaluation questions come from a split or files too, or are
a seeded ``holdout`` share of the training questions.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ragkit.errors import ConfigError
from ragkit.experiment.spec import CorpusSpec, read_config
from ragkit.registry import format_validation_error, named_component
from ragkit.train.embedder import EmbedderTrainConfig
from ragkit.train.mining import MiningConfig
from ragkit.train.reranker import RerankerTrainConfig

__all__ = ["EvalSource", "FinetuneSpec", "TrainSource", "load_finetune_spec"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TrainSource(_Strict):
    """Where training questions come from: one of ``split``, ``questions`` (+ ``qrels``), ``synthetic``.

    ``limit`` keeps a seeded random subset of N questions (caps CPU time).
    """

    split: str | None = None
    questions: str | None = None
    qrels: str | None = None
    synthetic: dict[str, Any] | None = None
    limit: int | None = Field(None, gt=0)

    def kind(self) -> str | None:
        given = [k for k in ("split", "questions", "synthetic") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give one source of questions, got {given}; keep one of split / questions / synthetic")
        return given[0] if given else None

    @field_validator("synthetic")
    @classmethod
    def _generator_config(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        """Checked now, before any model loads (when the generator is installed)."""
        try:
            from ragkit.synth.config import SynthConfig
        except ImportError:
            return v
        if v is not None:
            try:
                SynthConfig(**v)
            except ValidationError as err:
                raise ValueError("; ".join(format_validation_error(err))) from None
        return v

    @model_validator(mode="after")
    def _one_source(self):
        if self.kind() == "questions" and not self.qrels:
            raise ValueError("questions needs qrels (the relevance labels): add qrels: PATH")
        if self.qrels and self.kind() != "questions":
            raise ValueError("qrels is only used with questions: add questions: PATH")
        return self


class EvalSource(TrainSource):
    """Held-out questions: a split, files, or a seeded ``holdout`` share of the training questions."""

    holdout: float | None = Field(None, gt=0, lt=1)

    @model_validator(mode="after")
    def _holdout_alone(self):
        kind = self.kind()
        if self.holdout is not None and kind is not None:
            raise ValueError(f"holdout splits the training questions; it cannot be combined with {kind}")
        if self.holdout is None and kind is None:
            raise ValueError("give split, questions + qrels, synthetic, or holdout: 0.2")
        return self


class FinetuneSpec(_Strict):
    """A whole fine-tune: corpus, question sources, mining, trainer, evaluation, outputs."""

    name: str = "finetune"
    kind: Literal["embedder", "reranker"] = "embedder"
    corpus: CorpusSpec
    chunker: dict[str, Any] = Field(default_factory=lambda: {"name": "chars"})
    train: TrainSource
    eval: EvalSource = EvalSource(holdout=0.2)
    mining: MiningConfig = MiningConfig()
    embedder: EmbedderTrainConfig = EmbedderTrainConfig()
    reranker: RerankerTrainConfig = RerankerTrainConfig()
    metrics: list[str] = Field(default_factory=lambda: ["ndcg@10", "recall@100", "mrr@10"])
    levels: list[Literal["doc", "chunk"]] = Field(default_factory=lambda: ["doc"])
    primary: str = "doc:ndcg@10"
    bootstrap: int = Field(1000, ge=1)
    permutations: int = Field(10000, ge=1)
    device: str = "auto"
    seed: int = 0
    output_dir: str = "runs"
    model_dir: str | None = Field(None, description="where the model goes (default: <output_dir>/models/<name>-<kind>-<key>)")
    cache_dir: str | None = None
    base_dir: str = "."

    @field_validator("chunker")
    @classmethod
    def _named(cls, v: dict[str, Any]) -> dict[str, Any]:
        return named_component(v, "chunker", "chars")

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, v: list[str]) -> list[str]:
        from ragkit.metrics.ir import validate_metrics

        return validate_metrics(v)

    @model_validator(mode="after")
    def _primary_evaluated(self):
        cols = [f"{lv}:{m}" for lv in self.levels for m in self.metrics]
        if self.primary not in cols:
            raise ValueError(f"primary '{self.primary}' is not evaluated; evaluated: {', '.join(cols)}")
        if self.train.kind() is None:
            raise ValueError("train: give split (BEIR), questions + qrels, or synthetic")
        if "split" in (self.train.kind(), self.eval.kind()) and self.corpus.format != "beir":
            raise ValueError("train/eval split needs corpus.format: beir; for other corpora give questions + qrels")
        return self

    def resolve(self, path: str | None):
        """A config path made absolute against ``base_dir``."""
        from pathlib import Path

        if path is None:
            return None
        p = Path(os.path.expanduser(path))
        return p if p.is_absolute() else Path(self.base_dir) / p

    def trainer_config(self) -> EmbedderTrainConfig | RerankerTrainConfig:
        return self.embedder if self.kind == "embedder" else self.reranker

    def evaluated_columns(self) -> list[str]:
        return [f"{lv}:{m}" for lv in self.levels for m in self.metrics]


def load_finetune_spec(source: str | os.PathLike | dict[str, Any], overrides: list[str] | tuple[str, ...] = ()) -> FinetuneSpec:
    """Parse a YAML file (safely) or a dict, apply ``--set`` overrides, validate everything.

    Example:
        >>> spec = load_finetune_spec({"corpus": {"path": "d", "format": "beir"}, "train": {"split": "train"},
        ...                            "eval": {"split": "test"}}, ["embedder.epochs=2"])
        >>> spec.embedder.epochs, spec.mining.retriever
        (2.0, {'name': 'dense'})
    """
    cfg, where = read_config(source, overrides)
    try:
        return FinetuneSpec(**cfg)
    except ValidationError as err:
        lines = "\n  ".join(format_validation_error(err))
        raise ConfigError(f"{where}: invalid finetune config:\n  {lines}") from None
