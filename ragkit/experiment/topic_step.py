"""The runner's last step: topic analysis of one configuration's questions (``topics:`` in the config).

Picks the configuration (``topics.config``: ``best`` = the leaderboard's first, or a
name), takes its chunks from the run's stages (coverage is measured against them),
and writes ``topics.parquet``, ``question_topics.parquet`` and
``topic_classifier/`` through :mod:`ragkit.topics`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ragkit.errors import ConfigError, did_you_mean
from ragkit.experiment.grid import Cell
from ragkit.experiment.inputs import Inputs
from ragkit.experiment.spec import ExperimentSpec
from ragkit.experiment.stages import Stages

log = logging.getLogger(__name__)


def choose_config(wanted: str, results, per_query, primary: str) -> str:
    """The configuration to analyse: ``wanted``, or the leaderboard's first for ``best``."""
    names = list(dict.fromkeys(per_query["config"]))
    if wanted != "best":
        if wanted not in names:
            raise ConfigError(
                f"topics.config: no configuration '{wanted}' in this run; have: {', '.join(names)}."
                + did_you_mean(wanted, names)
            )
        return wanted
    from ragkit.experiment.leaderboard import leaderboard_frame

    try:
        return str(leaderboard_frame(results, primary).index[0])
    except (KeyError, IndexError):
        return names[0]


def run_topics(
    run_dir: Path, spec: ExperimentSpec, inputs: Inputs, cells: list[Cell], per_query, results, primary: str, stages: Stages
):
    """Analyse and write the topics of a finished run; None when disabled or too few questions."""
    cfg = spec.topics
    if not cfg.enabled or len(inputs.queries) < max(cfg.min_questions, 1):
        why = "disabled" if not cfg.enabled else f"{len(inputs.queries)} < topics.min_questions={cfg.min_questions}"
        log.info("topics: skipped (%s)", why)
        return None
    from ragkit.core.models import get_embedder
    from ragkit.topics.analysis import analyse_topics, write_topics

    name = choose_config(cfg.config, results, per_query, primary)
    cell = next(c for c in cells if c.name == name)
    rows = per_query[per_query["config"] == name].set_index("query_id").select_dtypes("number")
    chunks = stages.chunks(inputs.docs, cell.chunker) if cfg.coverage else None  # memoised: the run chunked them
    analysis = analyse_topics(
        inputs.queries, embedder=get_embedder(spec.monitor_model, spec.device), values=rows, docs=inputs.docs,
        chunks=chunks, config=cfg, seed=spec.seed, n_resamples=spec.bootstrap, config_name=name,
    )
    write_topics(analysis, run_dir)
    return analysis
