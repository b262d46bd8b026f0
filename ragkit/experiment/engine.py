"""The ``ray`` execution engine: corpus embedding on a Ray Data actor pool, grid cells as Ray tasks.

``execution: {engine: local}`` (the default) never reaches this module: the runner
imports it only for ``engine: ray``, and Ray itself is imported only here and in
:mod:`ragkit.core.ray_embed`. With ``engine: ray``:

1. Every distinct (chunker, dense retriever) pair that some uncached cell needs
   (dense members of hybrids included) is embedded once by Ray Data ``map_batches``
   over an actor pool and streamed into its content-addressed LanceDB table
   (:func:`ragkit.retrieval.stream_index.index_chunks_ray`); an ANN index past the
   retriever's threshold is built there too, once.
2. The cells not found in the cell cache run as Ray tasks, one per (chunker,
   retriever) group so that cells sharing a first stage share it. A task runs the very
   ``run_cell`` of the local engine through the same cached stages; its dense
   retriever finds the table complete and only loads it. Results come back in grid
   order and are saved to the cell cache as locally, so the answers are the local
   engine's (embeddings equal to float tolerance: batches differ).

On a cluster of several machines, give dense retrievers an object-store ``uri``
(``s3://...``) so every worker reads the table the driver wrote, and make the
credentials' environment variables available on every node.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ragkit.experiment.grid import Cell, ComponentSpec
from ragkit.experiment.inputs import Inputs
from ragkit.experiment.spec import ExperimentSpec
from ragkit.experiment.stages import Stages
from ragkit.registry import RETRIEVERS

log = logging.getLogger(__name__)


def _stages(spec: ExperimentSpec, inputs: Inputs, cache: Path, use_cache: bool) -> Stages:
    return Stages(cache, inputs.corpus_key(), inputs.queries_key(), spec.depth, spec.where, spec.device, reuse=use_cache)


def _run_group(cells: list[Cell], spec: ExperimentSpec, inputs: Inputs, cache: str, use_cache: bool):
    """A Ray task: the cells of one (chunker, retriever) group, exactly as the local engine runs them."""
    from ragkit.core.models import get_embedder
    from ragkit.core.runtime import seed_everything
    from ragkit.experiment.cells import run_cell

    seed_everything(spec.seed)
    stages = _stages(spec, inputs, Path(cache), use_cache)
    return [run_cell(c, spec, inputs, stages, lambda: get_embedder(spec.monitor_model, spec.device)) for c in cells]


def _dense_members(stages: Stages, spec: ComponentSpec) -> list[tuple[ComponentSpec, Any]]:
    """(spec, retriever) of every dense retriever in ``spec``: itself, or the members of a hybrid."""
    params = stages._params(RETRIEVERS, spec)
    retriever = RETRIEVERS.create(spec.name, params)
    if hasattr(retriever, "sub_specs"):
        return [m for name, p in retriever.sub_specs() for m in _dense_members(stages, ComponentSpec(name, dict(p), name))]
    return [(ComponentSpec(spec.name, params, spec.label), retriever)] if hasattr(retriever, "table_for") else []


def _embed_corpora(groups: dict[tuple[str, str], list[Cell]], spec: ExperimentSpec, inputs: Inputs, stages: Stages) -> None:
    """Embed each (chunker, dense retriever) pair whose ranking is not cached, on the Ray actor pool."""
    from ragkit.retrieval.stream_index import index_chunks_ray

    ex, done = spec.execution, set()
    for cells in groups.values():
        chunker = cells[0].chunker
        for member, retriever in _dense_members(stages, cells[0].retriever):
            key = stages.run_key(chunker, member.name, member.params)
            if key in done or (stages.reuse and (stages.dir / "runs" / f"{key}.parquet").is_file()):
                continue
            done.add(key)
            chunks = stages.chunks(inputs.docs, chunker)
            table = index_chunks_ray(
                retriever, chunks, num_workers=ex.num_workers, num_cpus=ex.num_cpus_per_worker,
                num_gpus=ex.num_gpus_per_worker, rows_per_batch=ex.batch_size, use_cache=ex.embedding_cache,
            )
            cfg = retriever.config
            if table is not None and cfg.ann != "none" and len(chunks) > cfg.ann_threshold:
                table.ensure_index(cfg.ann, cfg.ann_params)  # once here, not racing in every task


def run_cells_ray(cells: list[Cell], spec: ExperimentSpec, inputs: Inputs, cache: Path, use_cache: bool, show_progress):
    """``(frames, stages)`` like the local engine's ``_run_cells``, computed on a Ray cluster."""
    from ragkit.core.ray_embed import import_ray, init_ray, worker_env, worker_resources
    from ragkit.experiment.progress import cell_progress
    from ragkit.experiment.runner import _cell_key, _load_cell, _save_cell

    ray = import_ray()
    started = init_ray(spec.execution.address)
    try:
        stages = _stages(spec, inputs, cache, use_cache)
        frames: dict[int, Any] = {}
        groups: dict[tuple[str, str], list[Cell]] = {}
        paths = [cache / "cells" / _cell_key(c, spec, inputs) for c in cells]
        with cell_progress(len(cells), show_progress) as advance:
            for i, (cell, path) in enumerate(zip(cells, paths)):
                if use_cache and (path / "rankings.parquet").is_file():
                    log.info("cell %s: cached", cell.name)
                    frames[i] = _load_cell(path)
                    advance(cell.name)
                else:
                    groups.setdefault((cell.chunker.key(), cell.retriever.key()), []).append(cell)
            _embed_corpora(groups, spec, inputs, stages)
            _, cpus, gpus = worker_resources(1, spec.execution.num_cpus_per_worker, spec.execution.num_gpus_per_worker)
            task = ray.remote(_run_group).options(num_cpus=cpus, num_gpus=gpus, runtime_env={"env_vars": worker_env()})
            inputs_ref = ray.put(inputs)
            pending = {task.remote(g, spec, inputs_ref, str(cache), use_cache): g for g in groups.values()}
            log.info("running %d cell(s) as %d Ray task(s)", sum(map(len, groups.values())), len(pending))
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                group = pending.pop(ready[0])
                for cell, frame in zip(group, _get(ray, ready[0])):
                    i = cells.index(cell)
                    frames[i] = frame
                    _save_cell(paths[i], *frame)
                    advance(cell.name)
        return [frames[i] for i in range(len(cells))], stages
    finally:
        if started:
            ray.shutdown()


def _get(ray, ref):
    """``ray.get``, re-raising a task's own error (a ConfigError stays a ConfigError)."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as err:
        raise err.as_instanceof_cause() from None
