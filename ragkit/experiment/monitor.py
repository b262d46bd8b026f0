"""Monitoring mode: a production query log, no labels, one pipeline -> a run folder with the topic table.

``monitor(log, config)`` takes the corpus and one pipeline (chunker x retriever
[x reranker]) from an experiment config, treats the log as unlabelled questions,
and runs it like ``ragkit run``: label-free monitoring (top-1 / mean top-k cosine,
margins, rerank scores), ``per_query.parquet``, ``rankings.parquet``, ``results.parquet``,
and the topic analysis (``topics.parquet``, ``question_topics.parquet``,
``topic_classifier/``). A numeric ``feedback`` field is user feedback.

Logged rankings: a log line with a ``retrieved`` field (a list of ids, best first, or of
objects ``{"id" | "chunk_id" | "doc_id", "score"?}``) is monitored on that ranking
instead of being retrieved again. An id that is a chunk id of the configured chunker
is that chunk; a document id stands for the document's chunk closest to the question
(shared encoder; a document scores as its best chunk). Unknown ids are dropped with a
warning. Lines without ``retrieved`` are retrieved with the configured chunker and
retriever. A logged ranking is final, so when the log has any, the configured reranker
is not applied (it would rerank only some lines).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ragkit.data.types import Chunk, Hit, Query, Run
from ragkit.errors import ConfigError, did_you_mean
from ragkit.experiment.stages import Stages

log = logging.getLogger(__name__)

__all__ = ["LOGGED_FIELD", "monitor", "monitor_spec", "logged_run", "logged_stages"]

LOGGED_FIELD = "retrieved"


def _entries(value: Any) -> list[tuple[str, float | None]]:
    out = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, dict):
            rid = item.get("id", item.get("chunk_id", item.get("doc_id")))
            score = item.get("score")
            out.append((str(rid), None if score is None else float(score)))
        elif item is not None:
            out.append((str(item), None))
    return out


def logged_run(queries: Sequence[Query], chunks: Sequence[Chunk], embedder, field: str = LOGGED_FIELD) -> Run:
    """The rankings logged in ``query.metadata[field]``, mapped onto ``chunks`` (see the module docstring)."""
    by_id = {c.id: c for c in chunks}
    by_doc: dict[str, list[Chunk]] = {}
    for c in chunks:
        by_doc.setdefault(c.doc_id, []).append(c)
    logged = {q.id: _entries(q.metadata.get(field)) for q in queries if field in q.metadata}
    need_docs = sorted({rid for ents in logged.values() for rid, _ in ents if rid not in by_id and rid in by_doc})
    qpos = {q.id: i for i, q in enumerate(queries)}
    qv = embedder.encode([q.text for q in queries]) if need_docs else None
    doc_vecs = {d: embedder.encode([c.indexed_text for c in by_doc[d]]) for d in need_docs}
    out, unknown = {}, 0
    for qid, ents in logged.items():
        hits: dict[str, Hit] = {}
        for rank, (rid, score) in enumerate(ents, 1):
            s = score if score is not None else 1.0 / rank
            if rid in by_id:
                hit = Hit(rid, by_id[rid].doc_id, s)
            elif rid in by_doc:
                hit = Hit(by_doc[rid][int(np.argmax(doc_vecs[rid] @ qv[qpos[qid]]))].id, rid, s)
            else:
                unknown += 1
                continue
            hits.setdefault(hit.chunk_id, hit)  # a chunk logged twice keeps its best rank
        out[qid] = list(hits.values())
    if unknown:
        log.warning("%d logged ids are neither chunk ids of the configured chunker nor document ids; dropped", unknown)
    return Run(out, sort=False)  # the logged order is the ranking


class LoggedStages(Stages):
    """Stages whose first stage returns logged rankings where a query has one (and retrieves the rest)."""

    logged: Run

    @classmethod
    def wrap(cls, stages: Stages, logged: Run) -> LoggedStages:
        from ragkit.registry import config_hash

        new = cls.__new__(cls)
        new.__dict__.update(stages.__dict__)
        new.logged = logged
        # the first stage now retrieves only the queries without a logged ranking: cache it under its own key
        new.queries_key = config_hash([stages.queries_key, "without-logged", sorted(logged)])
        return new

    def _split(self, queries):
        rest = [q for q in queries if q.id not in self.logged]
        mine = {q.id: self.logged[q.id] for q in queries if q.id in self.logged}
        return rest, mine

    def run(self, docs, queries, chunker, spec):
        rest, mine = self._split(queries)
        run, timings = super().run(docs, rest, chunker, spec) if rest else (Run(), {"index_s": 0.0, "retrieve_s": 0.0})
        return Run({**dict(run.items()), **mine}, sort=False), timings


def _has_logged(path: Path) -> bool:
    """Whether any record of the log carries logged rankings (bad lines are reported later, by the loader)."""
    from ragkit.data.jsonl import iter_jsonl
    from ragkit.data.problems import Problems

    return any(LOGGED_FIELD in obj for _, obj in iter_jsonl(path, Problems("warn")))


def logged_stages(stages: Stages, cell, inputs, embedder, field: str, key: str) -> tuple[Stages, str]:
    """``stages`` serving the rankings logged in ``field`` for ``cell`` (and the cell cache key made to depend on
    them); unchanged when no question has the field."""
    from ragkit.registry import config_hash

    if not any(field in q.metadata for q in inputs.queries):
        return stages, key
    run = logged_run(inputs.queries, stages.chunks(inputs.docs, cell.chunker), embedder(), field)
    return LoggedStages.wrap(stages, run), config_hash([key, run.to_frame().values.tolist()])


def _component(cs) -> dict[str, Any]:
    return {"name": cs.name, "label": cs.label, **cs.params}


def monitor_spec(config, queries: str | os.PathLike, pipeline: str | None = None, overrides: Sequence[str] = ()):
    """The experiment spec of a monitoring run: the config's corpus, one of its pipelines, the log as questions."""
    from ragkit.experiment.spec import ExperimentSpec, load_spec, read_config
    from ragkit.experiment.validate import validate_experiment

    cfg, _ = read_config(config if isinstance(config, dict) else str(config), list(overrides))
    log_path = Path(queries).expanduser().resolve()
    if not log_path.is_file():
        raise ConfigError(
            f"--queries: '{queries}' does not exist; give a JSONL query log ({{\"id\", \"text\", \"feedback\"?}} per line)"
        )
    cfg["questions"] = {"path": str(log_path)}
    cfg["name"] = f"{cfg.get('name', 'experiment')}-monitor"
    cells = validate_experiment(load_spec(cfg)).cells()
    names = [c.name for c in cells]
    if pipeline is None and len(cells) > 1:
        raise ConfigError(
            f"the config has {len(cells)} pipelines; choose one with --pipeline, e.g. --pipeline '{names[0]}' "
            f"(all: {', '.join(names[:8])}{' ...' if len(names) > 8 else ''})"
        )
    cell = cells[0] if pipeline is None else next((c for c in cells if c.name == pipeline), None)
    if cell is None:
        raise ConfigError(
            f"--pipeline '{pipeline}' is not in the config; have: {', '.join(names[:8])}.{did_you_mean(pipeline, names)}"
        )
    cfg["chunkers"], cfg["retrievers"] = [_component(cell.chunker)], [_component(cell.retriever)]
    cfg["rerankers"] = [_component(cell.reranker)] if cell.reranker else []
    if _has_logged(log_path):
        if cell.reranker:
            log.info("the log has '%s' rankings: they are final, so the reranker '%s' is not applied",
                     LOGGED_FIELD, cell.reranker.label)
            cfg["rerankers"] = []
        if isinstance(cfg.get("execution"), dict) and cfg["execution"].get("engine") == "ray":
            log.info("logged rankings are served by the local engine; execution.engine set to local")
            cfg["execution"] = {**cfg["execution"], "engine": "local"}
    cfg.setdefault("topics", {})
    if isinstance(cfg["topics"], dict):
        cfg["topics"].setdefault("min_questions", 1)  # a log is analysed whatever its size
    return ExperimentSpec(**cfg)


def monitor(
    queries: str | os.PathLike,
    config,
    *,
    pipeline: str | None = None,
    overrides: Sequence[str] = (),
    output_dir: str | None = None,
    use_cache: bool = True,
    show_progress: bool | None = None,
):
    """Monitor a query log with one pipeline of ``config``; returns the :class:`~ragkit.experiment.runner.RunResult`.

    Example:
        >>> res = monitor("datasets/acme/query_log.jsonl", "experiments/monitor.yaml")  # doctest: +SKIP
        >>> res.topics.topics[["label", "n", "priority", "gap"]].head()  # doctest: +SKIP
    """
    from ragkit.experiment.runner import run

    spec = monitor_spec(config, queries, pipeline, overrides)
    return run(spec, output_dir=output_dir, use_cache=use_cache, show_progress=show_progress, logged_field=LOGGED_FIELD)
