"""``ragkit monitor``: a production query log through one pipeline -> monitoring values and the topic table."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ragkit.errors import RagkitError


def monitor_command(
    queries: Path = typer.Option(
        ..., "--queries", "-q", help="JSONL query log: {id, text, feedback?, timestamp?, retrieved?} per line."
    ),
    config: Path = typer.Option(
        ..., "--config", "-c", help="Experiment YAML giving the corpus and the pipeline (chunker, retriever, reranker)."
    ),
    pipeline: Optional[str] = typer.Option(
        None, "--pipeline", "-p", help="Configuration name when the config has several, e.g. 'chars | dense'."
    ),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Override a config value: KEY=VALUE (repeatable)."),
    output_dir: Optional[str] = typer.Option(None, help="Folder for run folders (default: the config's output_dir)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Recompute instead of reusing cached stages."),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="Log every step."),
) -> None:
    """Monitor an unlabelled query log: retrieve (or use logged rankings), score, cluster into topics, rank them."""
    from ragkit.cli.main import _fail, _setup_logging
    from ragkit.experiment.leaderboard import print_leaderboard
    from ragkit.experiment.monitor import monitor
    from ragkit.topics.printing import print_topics

    _setup_logging(verbose)
    try:
        res = monitor(queries, config, pipeline=pipeline, overrides=set_ or (), output_dir=output_dir,
                      use_cache=not no_cache)
    except RagkitError as err:
        _fail(err)
    print_leaderboard(res.results, res.primary)
    print_topics(res.topics.topics if res.topics is not None else None)
    typer.echo(f"run folder: {res.run_dir}")
