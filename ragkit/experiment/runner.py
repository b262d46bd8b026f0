"""Run an experiment: validate, load, expand the grid, run each cell through cached stages, write the run folder.

Files in ``runs/<name>-<timestamp>/``: ``config.yaml`` (resolved), ``results.parquet``
(per configuration x metric: mean and 95% bootstrap CI), ``per_query.parquet``,
``rankings.parquet`` (top max(k) per query), ``state.json``, ``run.log``, a snapshot of the
inputs (``questions.parquet``, ``qrels.parquet``, ``chunks.parquet``, ``run_info.json``) and,
unless ``report: false``, ``report.html`` with its data ``report_data.json``.
Each finished cell is also stored under ``<cache>/cells/<key>/``, so an interrupted
run restarted with ``resume=True`` continues where it stopped, and an unchanged
re-run is near-instant.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragkit.experiment.grid import Cell
from ragkit.experiment.inputs import Inputs, load_inputs
from ragkit.experiment.snapshot import write_snapshot
from ragkit.experiment.spec import ExperimentSpec, load_spec
from ragkit.experiment.stages import Stages, _with_model_signatures
from ragkit.experiment.store import commit_dir, find_resumable, new_run_dir, write_json, write_parquet, write_yaml
from ragkit.experiment.validate import validate_experiment
from ragkit.registry import config_hash

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """What a run produced, as pandas DataFrames, and where it was written."""

    run_dir: Path
    results: Any  # long: config, chunker, retriever, level, metric, mean, ci_low, ci_high, n
    per_query: Any
    rankings: Any
    primary: str
    signal: Any = None  # AUROC of each label-free signal vs retrieval success, per configuration
    signal_success: str = ""  # the per-query metric that defines success for ``signal``
    report: Path | None = None  # the HTML report, when written
    topics: Any = None  # ragkit.topics.TopicAnalysis (topics.parquet, question_topics.parquet), when written

    def leaderboard(self):
        """One row per configuration, sorted by the primary metric (best first)."""
        from ragkit.experiment.leaderboard import leaderboard_frame

        return leaderboard_frame(self.results, self.primary)


def _cache_root(spec: ExperimentSpec) -> Path:
    from ragkit.core.cache import cache_root

    if spec.cache_dir:
        path = spec.resolve(spec.cache_dir)
        os.environ["RAGKIT_CACHE_DIR"] = str(path)  # the embedding cache follows the experiment's
        return path
    return cache_root()


def _cell_key(cell: Cell, spec: ExperimentSpec, inputs: Inputs) -> str:
    rerank = [cell.reranker.name, cell.reranker.params] if cell.reranker else []
    sig = _with_model_signatures(
        [cell.chunker.params, cell.chunker.name, cell.retriever.name, cell.retriever.params, spec.monitor_model, *rerank]
    )
    settings = [spec.metric_names(), spec.levels, spec.depth, spec.where, spec.device]
    qrels = sorted((q, sorted(map(repr, js))) for q, js in inputs.qrels.items())
    return config_hash([sig, settings, inputs.corpus_key(), inputs.queries_key(), config_hash(qrels), "cell-v1"])


def _load_cell(path: Path):
    import pandas as pd

    return pd.read_parquet(path / "per_query.parquet"), pd.read_parquet(path / "rankings.parquet")


def _save_cell(path: Path, per_query, rankings) -> None:
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    write_parquet(per_query, tmp / "per_query.parquet")
    write_parquet(rankings, tmp / "rankings.parquet")
    commit_dir(tmp, path)


def _prepare_dir(spec: ExperimentSpec, config_key: str, output_dir: str | None, resume: bool) -> Path:
    out = (Path(output_dir) if output_dir else spec.resolve(spec.output_dir)).resolve()
    run_dir = find_resumable(out, spec.name, config_key) if resume else None
    if run_dir is None:
        if resume:
            log.warning("no unfinished run of '%s' with this config under %s; starting a new one", spec.name, out)
        run_dir = new_run_dir(out, spec.name)
    else:
        log.info("resuming %s", run_dir)
    resolved = spec.model_dump(mode="json")
    write_yaml(resolved, run_dir / "config.yaml")
    write_json({"config_key": config_key, "finished": False}, run_dir / "state.json")
    return run_dir


def run(
    config: ExperimentSpec | dict[str, Any] | str | os.PathLike,
    *,
    output_dir: str | None = None,
    resume: bool = False,
    overrides: tuple[str, ...] | list[str] = (),
    use_cache: bool = True,
    show_progress: bool | None = None,
    logged_field: str | None = None,
) -> RunResult:
    """Run an experiment from a spec, a config dict or a YAML path; returns the results as DataFrames.

    ``logged_field``: a question field holding a ranking logged by a production system, used
    instead of retrieving for the questions that have it (``ragkit monitor``; see
    :mod:`ragkit.experiment.monitor`).

    Example:
        >>> import ragkit
        >>> res = ragkit.run("experiments/quickstart.yaml")  # doctest: +SKIP
        >>> res.leaderboard().head()  # doctest: +SKIP
    """
    spec = config if isinstance(config, ExperimentSpec) else load_spec(config, overrides)
    grid = validate_experiment(spec)
    cache = _cache_root(spec)
    inputs = load_inputs(spec)
    cells = grid.cells()
    config_key = config_hash(spec.model_dump(mode="json"))
    run_dir = _prepare_dir(spec, config_key, output_dir, resume)
    handler = _attach_log(run_dir)
    try:
        frames, stages = _run_cells(cells, spec, inputs, cache, use_cache, show_progress, logged_field)
        result = _finish(run_dir, spec, config_key, frames)
        write_snapshot(run_dir, spec, inputs, cells, [f[1] for f in frames], stages)
        result.topics = _topics(run_dir, spec, inputs, cells, result, stages)
        if spec.report.enabled:
            result.report = _write_report(run_dir)
    finally:
        logging.getLogger("ragkit").removeHandler(handler)
        handler.close()
    return result


def _run_cells(cells: list[Cell], spec: ExperimentSpec, inputs: Inputs, cache: Path, use_cache: bool, show_progress,
               logged_field: str | None = None):
    if spec.execution.engine == "ray":  # the local path below never imports Ray
        from ragkit.experiment.engine import run_cells_ray

        return run_cells_ray(cells, spec, inputs, cache, use_cache, show_progress)
    from ragkit.core.runtime import seed_everything
    from ragkit.experiment.cells import run_cell
    from ragkit.experiment.progress import cell_progress

    seed_everything(spec.seed)
    stages = Stages(cache, inputs.corpus_key(), inputs.queries_key(), spec.depth, spec.where, spec.device, reuse=use_cache)

    def embedder():
        from ragkit.core.models import get_embedder

        return get_embedder(spec.monitor_model, spec.device)

    frames = []
    with cell_progress(len(cells), show_progress) as advance:
        for cell in cells:
            key, cell_stages = _cell_key(cell, spec, inputs), stages
            if logged_field:  # monitor mode: rankings logged in the questions file replace retrieval
                from ragkit.experiment.monitor import logged_stages

                cell_stages, key = logged_stages(stages, cell, inputs, embedder, logged_field, key)
            path = cache / "cells" / key
            if use_cache and (path / "rankings.parquet").is_file():
                log.info("cell %s: cached", cell.name)
                frames.append(_load_cell(path))
            else:
                log.info("cell %s: running", cell.name)
                frames.append(run_cell(cell, spec, inputs, cell_stages, embedder))
                _save_cell(path, *frames[-1])
            advance(cell.name)
    return frames, stages


def _finish(run_dir: Path, spec: ExperimentSpec, config_key: str, frames) -> RunResult:
    import pandas as pd

    from ragkit.experiment.summary import summarize_cells

    per_query = pd.concat([f[0] for f in frames], ignore_index=True)
    rankings = pd.concat([f[1] for f in frames], ignore_index=True)
    results = summarize_cells(per_query, n_resamples=spec.bootstrap, seed=spec.seed)
    write_parquet(per_query, run_dir / "per_query.parquet")
    write_parquet(rankings, run_dir / "rankings.parquet")
    write_parquet(results, run_dir / "results.parquet")
    success = f"doc:hit_rate@{min(spec.k)}"
    signal = _signal_quality(per_query, success)
    if signal is not None:
        write_parquet(signal, run_dir / "signal.parquet")
    write_json({"config_key": config_key, "finished": True, "cells": len(frames)}, run_dir / "state.json")
    primary = spec.primary if spec.primary in per_query else "monitor:top1_cosine"  # unlabelled questions
    return RunResult(run_dir, results, per_query, rankings, primary, signal, success)


def _topics(run_dir: Path, spec: ExperimentSpec, inputs: Inputs, cells: list[Cell], result: RunResult, stages: Stages):
    """Topic analysis (``topics:``; see :mod:`ragkit.experiment.topic_step`); a failure is logged, never fatal."""
    try:
        from ragkit.experiment.topic_step import run_topics

        return run_topics(run_dir, spec, inputs, cells, result.per_query, result.results, result.primary, stages)
    except Exception as err:  # noqa: BLE001 - the run is already saved
        log.warning("could not analyse topics (%s: %s)", type(err).__name__, err, exc_info=True)
        return None


def _write_report(run_dir: Path) -> Path | None:
    """``report.html`` (and ``report_data.json``); a failure is logged, never fatal: the run is already saved."""
    try:
        from ragkit.report import write_report

        return write_report(run_dir)
    except Exception as err:  # noqa: BLE001 - any rendering bug must not lose a finished run
        log.warning("could not write the HTML report (%s: %s); retry with `ragkit report %s`",
                    type(err).__name__, err, run_dir)
        return None


def _signal_quality(per_query, success: str):
    """Can the label-free signals be trusted here? AUROC of each vs a doc-level hit at the smallest k
    (at k=10 nearly every query is a hit, which leaves too few failures to judge a signal)."""
    if success not in per_query.columns:
        return None
    from ragkit.metrics.signal import signal_quality

    return signal_quality(per_query, success=success)


def _attach_log(run_dir: Path) -> logging.Handler:
    handler = logging.FileHandler(run_dir / "run.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger("ragkit")
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    return handler
