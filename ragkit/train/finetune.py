"""``ragkit finetune``: mine hard negatives, fine-tune, and prove (or disprove) the gain on held-out questions.

Steps: load the corpus and chunk it; load the training questions (a BEIR split,
question/qrels files, or generated ones) and the held-out ones (kept out of
training, text duplicates included); mine hard negatives; train (or reuse a finished
model folder with the same key); evaluate base and fine-tuned models on the held-out
questions; compare them per question (bootstrap CIs, paired permutation test); warn
when the fine-tune is worse. Written to ``runs/<name>-finetune-<timestamp>/``:
``finetune.json`` (the summary), ``per_query.parquet`` (``config`` = before/after,
``query_id``, one column per metric), ``mined.parquet``, ``config.yaml``,
``state.json``, ``run.log``. The model itself goes to ``model_dir`` (default
``<output_dir>/models/<name>-<kind>-<key>``).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragkit.data.types import Chunk, Run
from ragkit.registry import CHUNKERS, config_hash
from ragkit.train.base import TRAINING_ROWS, ModelFolder, TrainOutcome, finished_outcome
from ragkit.train.data import QuestionSet, holdout_split, load_documents, load_questions, remove_overlap
from ragkit.train.evaluate import compare_before_after, evaluate_run, regression_warning, rerank_run, retrieve_run
from ragkit.train.mining import MinedSet, mine_hard_negatives
from ragkit.train.spec import FinetuneSpec, load_finetune_spec

log = logging.getLogger(__name__)

__all__ = ["FinetuneResult", "finetune"]


@dataclass
class FinetuneResult:
    """What :func:`finetune` produced: the run folder, the ``finetune.json`` content, per-question metrics."""

    run_dir: Path
    report: dict[str, Any]
    per_query: Any  # pandas.DataFrame: config (before/after), query_id, metric columns

    @property
    def warning(self) -> str | None:
        return self.report["warning"]


@dataclass
class _Inputs:
    chunks: list[Chunk]
    train: QuestionSet
    held: QuestionSet
    corpus_key: str
    overlap_dropped: int


def _inputs(spec: FinetuneSpec) -> _Inputs:
    docs = load_documents(spec)
    train = load_questions(spec, spec.train, docs)
    dropped = 0
    if spec.eval.holdout is not None:
        train, held = holdout_split(train, spec.eval.holdout, spec.seed)
    else:
        held = load_questions(spec, spec.eval, docs)
        train, dropped = remove_overlap(train, held)
    chunks = CHUNKERS.create(spec.chunker["name"], {k: v for k, v in spec.chunker.items() if k not in ("name", "label")}).chunk_all(docs)
    log.info("%d documents, %d chunks, %d training and %d held-out questions", len(docs), len(chunks), len(train.queries), len(held.queries))
    corpus_key = config_hash([[d.id, d.title, d.text] for d in docs])
    return _Inputs(chunks, train, held, corpus_key, dropped)


def _model_folder(spec: FinetuneSpec, inputs: _Inputs, out: Path) -> ModelFolder:
    from ragkit.core.models import model_signature

    trainer = spec.trainer_config()
    key = config_hash([
        spec.kind, trainer.model_dump(mode="json"), model_signature(trainer.base_model), spec.mining.model_dump(mode="json"),
        spec.chunker, inputs.corpus_key, inputs.train.key(), spec.seed, "finetune-v1",
    ])
    path = spec.resolve(spec.model_dir) if spec.model_dir else out / "models" / f"{spec.name}-{spec.kind}-{key}"
    return ModelFolder(path, key)


def _mine(spec: FinetuneSpec, inputs: _Inputs, folder: ModelFolder) -> MinedSet:
    """Mined rows, reused from an interrupted run of the same key (checkpoints expect the same data)."""
    path, stats_path = folder.partial / "mined.parquet", folder.partial / "mining.json"
    if path.is_file() and stats_path.is_file():
        log.info("reusing mined rows from %s", path)
        return MinedSet.load(path, json.loads(stats_path.read_text(encoding="utf-8")))
    from ragkit.experiment.store import write_json

    mined = mine_hard_negatives(
        inputs.train.queries, inputs.train.qrels, inputs.chunks, spec.mining,
        score_model=spec.trainer_config().base_model if spec.kind == "embedder" else "default", device=spec.device,
    )
    if not len(mined):
        from ragkit.errors import ConfigError

        raise ConfigError(
            f"mining kept no training row ({mined.stats}); loosen the filters: lower mining.relative_margin / "
            "mining.margin / mining.skip_top / mining.n_negatives, or raise mining.depth"
        )
    mined.save(path)
    write_json(mined.stats, stats_path)
    return mined


def _train(spec: FinetuneSpec, inputs: _Inputs, folder: ModelFolder) -> tuple[TrainOutcome, MinedSet]:
    if (done := finished_outcome(folder, spec.kind)) is not None:
        return done, MinedSet.load(folder.path / TRAINING_ROWS, folder.finished().get("mining"))
    mined = _mine(spec, inputs, folder)
    header = {"mining": mined.stats, "train_source": inputs.train.source, "train_origin": inputs.train.origin}
    if spec.kind == "embedder":
        from ragkit.train.embedder import train_embedder

        return train_embedder(mined, spec.embedder, folder, device=spec.device, seed=spec.seed, header=header), mined
    from ragkit.train.reranker import train_reranker

    return train_reranker(mined, spec.reranker, folder, device=spec.device, seed=spec.seed, header=header), mined


def _has_reranker_head(model: str) -> bool:
    """True when ``model`` is already a sequence-classification model (a trained cross-encoder)."""
    try:
        from transformers import AutoConfig

        from ragkit.core.models import resolve_model_path

        archs = AutoConfig.from_pretrained(resolve_model_path(model)).architectures or []
    except (OSError, ValueError):
        return False
    return any(a.endswith("ForSequenceClassification") for a in archs)


def _runs(spec: FinetuneSpec, inputs: _Inputs, model_dir: Path) -> tuple[Run, Run, str]:
    """(before, after, what "before" is) on the held-out questions."""
    queries, chunks = inputs.held.queries, inputs.chunks
    k = max(int(m.split("@")[1]) for m in spec.metrics)
    if spec.kind == "embedder":
        base = spec.embedder.base_model
        before = retrieve_run({"name": "dense", "model": base}, chunks, queries, k, spec.device)
        after = retrieve_run({"name": "dense", "model": str(model_dir)}, chunks, queries, k, spec.device)
        return before, after, f"dense retrieval with {base}"
    rr = spec.reranker
    first = retrieve_run(rr.retriever, chunks, queries, rr.depth, spec.device)
    after = rerank_run(str(model_dir), first, chunks, queries, rr.depth, spec.device)
    if _has_reranker_head(rr.base_model):
        return rerank_run(rr.base_model, first, chunks, queries, rr.depth, spec.device), after, f"reranking with {rr.base_model}"
    # an encoder with a fresh head ranks at random: the honest baseline is the first stage itself
    return first, after, f"first stage {rr.retriever['name']} without reranking"


def _evaluate(spec: FinetuneSpec, inputs: _Inputs, model_dir: Path):
    import pandas as pd

    before, after, baseline = _runs(spec, inputs, model_dir)
    held, metrics = inputs.held, spec.metrics
    per = {name: evaluate_run(run, held.qrels, inputs.chunks, metrics, spec.levels) for name, run in (("before", before), ("after", after))}
    records = compare_before_after(per["before"], per["after"], n_resamples=spec.bootstrap, permutations=spec.permutations, seed=spec.seed)
    long = pd.concat([df.assign(config=name).rename_axis("query_id").reset_index() for name, df in per.items()], ignore_index=True)
    return records, long[["config", "query_id", *spec.evaluated_columns()]], baseline


def finetune(
    config: FinetuneSpec | dict[str, Any] | str | os.PathLike,
    *,
    overrides: tuple[str, ...] | list[str] = (),
    output_dir: str | None = None,
) -> FinetuneResult:
    """Run a fine-tune from a spec, a dict or a YAML path; see the module docstring.

    Example:
        >>> res = finetune("experiments/finetune_scifact.yaml")  # doctest: +SKIP
        >>> res.report["metrics"][0]["delta"], res.warning  # doctest: +SKIP
        (0.031, None)
    """
    from ragkit.experiment.runner import _attach_log, _cache_root
    from ragkit.experiment.store import new_run_dir, write_json, write_parquet, write_yaml

    spec = config if isinstance(config, FinetuneSpec) else load_finetune_spec(config, overrides)
    _cache_root(spec)
    out = (Path(output_dir) if output_dir else spec.resolve(spec.output_dir)).resolve()
    inputs = _inputs(spec)  # bad paths and labels fail here, before a run folder exists
    run_dir = new_run_dir(out, f"{spec.name}-finetune")
    write_yaml(spec.model_dump(mode="json"), run_dir / "config.yaml")
    write_json({"finished": False}, run_dir / "state.json")
    handler = _attach_log(run_dir)
    try:
        folder = _model_folder(spec, inputs, out)
        outcome, mined = _train(spec, inputs, folder)
        write_parquet(mined.frame, run_dir / "mined.parquet")
        records, per_query, baseline = _evaluate(spec, inputs, outcome.model_dir)
        report = _report(spec, inputs, outcome, mined, records, baseline)
        write_parquet(per_query, run_dir / "per_query.parquet")
        write_json(report, run_dir / "finetune.json")
        write_json({"finished": True}, run_dir / "state.json")
        if report["warning"]:
            log.warning("%s", report["warning"])
    finally:
        logging.getLogger("ragkit").removeHandler(handler)
        handler.close()
    return FinetuneResult(run_dir, report, per_query)


def _report(spec: FinetuneSpec, inputs: _Inputs, outcome: TrainOutcome, mined: MinedSet, records, baseline: str) -> dict[str, Any]:
    trainer = spec.trainer_config()
    n_queries = records[0]["n"] if records else 0
    return {
        "base_model": trainer.base_model, "model_dir": str(outcome.model_dir), "kind": spec.kind,
        "train_source": inputs.train.source, "n_train": len(mined), "loss": trainer.loss, "primary": spec.primary,
        "metrics": records, "n_queries": n_queries, "warning": regression_warning(records, spec.primary),
        "train_seconds": outcome.seconds, "settings": spec.model_dump(mode="json"),
        "baseline": baseline, "train_origin": inputs.train.origin, "eval_origin": inputs.held.origin,
        "n_train_questions": len(inputs.train.queries), "n_eval_questions": len(inputs.held.queries),
        "eval_overlap_dropped": inputs.overlap_dropped, "mining": mined.stats, "steps": outcome.steps,
        "losses": outcome.losses, "reused_model": outcome.reused,
    }
