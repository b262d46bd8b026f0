"""The experiment config: YAML -> validated :class:`ExperimentSpec`.

A config is a nest of component specs. Every component spec is ``{name: ..., <params>}``
(optionally ``label:``), the params being exactly the component's constructor kwargs.
Lists expand to a grid (see :mod:`ragkit.experiment.grid`). Relative paths are
resolved against the config file's folder. Secrets never appear in a config: use
``$env:NAME`` where a component accepts one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ragkit.errors import ConfigError
from ragkit.registry import format_validation_error
from ragkit.synth.config import SynthConfig
from ragkit.topics.config import TopicsConfig


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CorpusSpec(_Strict):
    """Where the documents come from. ``format: beir`` also provides questions and qrels."""

    path: str
    format: Literal["folder", "jsonl", "beir"] = "folder"
    split: str = "test"
    on_error: Literal["raise", "warn"] = "raise"
    title_in_text: bool = True
    limit: int | None = Field(None, gt=0, description="keep only the first N documents (quick trials)")


class QuestionsSpec(_Strict):
    """Gold questions (JSONL) and their qrels (JSONL spans or TREC/BEIR TSV), and/or a synthetic set.

    ``synthetic``: a generator config (:class:`ragkit.synth.config.SynthConfig`); the set is
    generated from the corpus (cached by corpus + config) and evaluated. ``source`` picks
    what ``ragkit run`` evaluates when both are given (default: synthetic when set);
    ``ragkit agreement`` runs both.

    ``path`` without ``qrels``: unlabelled questions (e.g. a production query log); only
    label-free monitoring is computed, and a numeric ``feedback`` field is read as user
    feedback by the topic analysis.
    """

    path: str | None = None
    qrels: str | None = None
    limit: int | None = Field(None, gt=0)
    synthetic: SynthConfig | None = None
    source: Literal["gold", "synthetic"] | None = None

    def use_synthetic(self) -> bool:
        return self.source == "synthetic" or (self.source is None and self.synthetic is not None)


class ReportSpec(_Strict):
    """The HTML report written at the end of a run; ``report: false`` turns it off."""

    enabled: bool = True
    baseline: str | None = Field(None, description="configuration the others are tested against (default: the first)")


class ExecutionSpec(_Strict):
    """Where the grid runs. ``local`` (default): in this process. ``ray``: corpus embedding on a
    Ray Data actor pool (a GPU per actor when the cluster has them) and cells as Ray tasks;
    needs ``pip install 'ragkit[ray]'``. Results are the same either way."""

    engine: Literal["local", "ray"] = "local"
    address: str | None = Field(
        None, description="Ray cluster: auto (a running one), ray://HEAD:10001 (Ray Client); none = RAY_ADDRESS or a new local Ray"
    )
    num_workers: int | None = Field(None, gt=0, description="embedding actors; none = as many as the cluster fits")
    num_cpus_per_worker: float = Field(1.0, gt=0, description="CPUs per embedding actor and per cell task")
    num_gpus_per_worker: float | None = Field(None, ge=0, description="GPUs per actor and task; none = 1 when the cluster has GPUs")
    batch_size: int = Field(1024, gt=0, description="chunks per batch sent to an embedding actor")
    embedding_cache: bool = Field(True, description="actors read and fill the embedding cache (off for corpora in the millions)")


class ExperimentSpec(_Strict):
    """A whole experiment; see ``experiments/quickstart.yaml`` for a commented example."""

    name: str = "experiment"
    corpus: CorpusSpec
    questions: QuestionsSpec = QuestionsSpec()
    chunkers: list[dict[str, Any]] = Field(default_factory=lambda: [{"name": "chars"}])
    retrievers: list[dict[str, Any]] = Field(default_factory=lambda: [{"name": "bm25"}])
    rerankers: list[dict[str, Any]] = Field(
        default_factory=list, description="rerank stages; {name: none} keeps the un-reranked cell in the grid"
    )
    metrics: list[str] = Field(default_factory=lambda: ["ndcg", "recall", "mrr", "hit_rate", "precision", "map"])
    k: list[int] = Field(default_factory=lambda: [1, 3, 5, 10])
    levels: list[Literal["doc", "chunk"]] = Field(default_factory=lambda: ["doc", "chunk"])
    primary: str = "doc:ndcg@10"
    depth: int = Field(100, gt=0, description="chunks retrieved per query before cut-offs and fusion")
    where: dict[str, Any] | None = None
    monitor_model: str = "default"
    device: str = "auto"
    seed: int = 0
    bootstrap: int = Field(1000, ge=0)
    output_dir: str = "runs"
    cache_dir: str | None = None
    base_dir: str = Field(".", description="folder that relative paths are resolved against (set by the loader)")
    execution: ExecutionSpec = ExecutionSpec()
    report: ReportSpec = ReportSpec()
    topics: TopicsConfig = Field(default_factory=TopicsConfig, description="topic analysis at the end of a run")

    @field_validator("topics", mode="before")
    @classmethod
    def _topics_switch(cls, v: Any) -> Any:
        return {"enabled": v} if isinstance(v, bool) else v

    @field_validator("report", mode="before")
    @classmethod
    def _report_switch(cls, v: Any) -> Any:
        return {"enabled": v} if isinstance(v, bool) else v

    @field_validator("chunkers", "retrievers", "rerankers")
    @classmethod
    def _named(cls, v: list[dict[str, Any]], info) -> list[dict[str, Any]]:
        if not v and info.field_name != "rerankers":
            raise ValueError("give at least one entry")
        for i, item in enumerate(v):
            if not isinstance(item, dict) or "name" not in item:
                raise ValueError(f"entry {i} must be a mapping with a 'name' key, e.g. {{name: bm25}}; got {item!r}")
        return v

    @field_validator("k")
    @classmethod
    def _positive(cls, v: list[int]) -> list[int]:
        if not v or any(x <= 0 for x in v):
            raise ValueError(f"k must be a non-empty list of positive integers, got {v}")
        return sorted(set(v))

    def resolve(self, path: str | None) -> Path | None:
        """A config path made absolute against ``base_dir``."""
        if path is None:
            return None
        p = Path(os.path.expanduser(path))
        return p if p.is_absolute() or "://" in path else Path(self.base_dir) / p

    def metric_names(self) -> list[str]:
        """Every metric string evaluated: each metric at each k."""
        return [f"{m}@{k}" for m in self.metrics for k in self.k]


def _parse_value(raw: str) -> Any:
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw


def apply_override(cfg: dict[str, Any], assignment: str) -> None:
    """Apply ``a.b.c=value`` in place. In a list, a segment is an index or a component ``name``
    (``retrievers.bm25.k1=1.2`` sets k1 on every bm25 entry). Values are parsed as YAML."""
    if "=" not in assignment:
        raise ConfigError(f"--set '{assignment}': expected KEY=VALUE, e.g. --set retrievers.bm25.k1=1.2")
    key, raw = assignment.split("=", 1)
    parts = key.strip().split(".")
    targets: list[Any] = [cfg]
    for depth, part in enumerate(parts[:-1]):
        nxt = []
        for t in targets:
            if isinstance(t, list):
                nxt += [t[int(part)]] if part.isdigit() and int(part) < len(t) else [x for x in t if isinstance(x, dict) and x.get("name") == part]
            elif isinstance(t, dict):
                if t.get(part) is None:  # absent, or `null` in a saved config (e.g. questions.synthetic)
                    t[part] = {}
                nxt.append(t[part])
        if not nxt:
            raise ConfigError(f"--set {key}: nothing matches '{'.'.join(parts[: depth + 1])}' in the config")
        targets = nxt
    for t in targets:
        if not isinstance(t, dict):
            raise ConfigError(f"--set {key}: '{'.'.join(parts[:-1])}' is not a mapping")
        t[parts[-1]] = _parse_value(raw)


def read_config(source: str | os.PathLike | dict[str, Any], overrides: list[str] | tuple[str, ...] = ()) -> tuple[dict[str, Any], str]:
    """A YAML file (parsed safely) or a dict with ``base_dir`` set and ``--set`` overrides applied; and its name for errors."""
    if isinstance(source, dict):
        cfg, where = dict(source), "config"
        cfg.setdefault("base_dir", os.getcwd())
    else:
        path = Path(source)
        if not path.is_file():
            raise ConfigError(f"config file '{source}' does not exist")
        try:
            cfg = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as err:
            raise ConfigError(f"{source}: invalid YAML: {err}") from None
        if not isinstance(cfg, dict):
            raise ConfigError(f"{source}: the top level must be a mapping, got {type(cfg).__name__}")
        cfg.setdefault("base_dir", str(path.resolve().parent))
        where = str(source)
    for o in overrides:
        apply_override(cfg, o)
    return cfg, where


def load_spec(source: str | os.PathLike | dict[str, Any], overrides: list[str] | tuple[str, ...] = ()) -> ExperimentSpec:
    """Parse a YAML file (safely) or a dict, apply ``--set`` overrides, validate the top level."""
    cfg, where = read_config(source, overrides)
    try:
        return ExperimentSpec(**cfg)
    except ValidationError as err:
        lines = "\n  ".join(format_validation_error(err))
        raise ConfigError(f"{where}: invalid config:\n  {lines}") from None
