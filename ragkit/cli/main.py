"""``ragkit`` console script: ``ragkit run``, ``ragkit validate``, ``ragkit chunks``."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Optional

import typer

from ragkit.cli.compare import compare_command
from ragkit.cli.report import report_command
from ragkit.cli.finetune import finetune_command
from ragkit.cli.agreement import agreement_command
from ragkit.cli.synth import synth_command
from ragkit.cli.monitor import monitor_command
from ragkit.cli.classify import classify_command
from ragkit.errors import RagkitError

app = typer.Typer(
    name="ragkit",
    help="Evaluate and improve the retrieval half of RAG systems.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

SetOpt = typer.Option(None, "--set", help="Override a config value: KEY=VALUE, e.g. retrievers.bm25.k1=1.2 (repeatable).")


def _setup_logging(verbose: bool) -> None:
    from rich.logging import RichHandler

    level = logging.DEBUG if verbose else logging.INFO
    handler = RichHandler(show_path=False, markup=False, rich_tracebacks=False, level=level if verbose else logging.WARNING)
    logging.getLogger("ragkit").addHandler(handler)
    logging.getLogger("ragkit").setLevel(level)


def _fail(err: Exception) -> None:
    typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


@app.command()
def run(
    config: Path = typer.Argument(..., help="Experiment YAML file, e.g. experiments/quickstart.yaml."),
    set_: Optional[list[str]] = SetOpt,
    output_dir: Optional[str] = typer.Option(None, help="Folder for run folders (default: the config's output_dir)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the newest unfinished run of this config."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Recompute every cell instead of reusing cached ones."),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="Log every step."),
) -> None:
    """Run an experiment grid and print the leaderboard."""
    from ragkit.experiment.leaderboard import print_leaderboard
    from ragkit.experiment.runner import run as run_experiment

    _setup_logging(verbose)
    try:
        res = run_experiment(config, overrides=set_ or (), output_dir=output_dir, resume=resume, use_cache=not no_cache)
    except RagkitError as err:
        _fail(err)
    print_leaderboard(res.results, res.primary)
    if res.signal is not None and len(res.signal):
        from ragkit.experiment.leaderboard import print_signal

        print_signal(res.signal, res.signal_success)
    if res.topics is not None:
        from ragkit.topics.printing import print_topics

        print_topics(res.topics.topics)
    typer.echo(f"run folder: {res.run_dir}")
    if res.report:
        typer.echo(f"report: {res.report}")


@app.command()
def validate(
    config: Path = typer.Argument(..., help="Experiment YAML file."),
    set_: Optional[list[str]] = SetOpt,
) -> None:
    """Check a config (names, params, metrics, files, device) and report every problem at once."""
    from ragkit import validate as validate_config

    try:
        grid = validate_config(str(config), tuple(set_ or ()))
    except RagkitError as err:
        _fail(err)
    sizes = f"{len(grid.chunkers)} chunker(s) x {len(grid.retrievers)} retriever(s)"
    if grid.rerankers != [None]:
        sizes += f" x {len(grid.rerankers)} rerank option(s)"
    typer.echo(f"ok: {sizes} = {len(grid.cells())} configurations")


@app.command()
def chunks(
    config: Path = typer.Argument(..., help="Experiment YAML file (its corpus and chunkers are used)."),
    model: str = typer.Option("default", help="Embedding model whose max sequence length is checked."),
    set_: Optional[list[str]] = SetOpt,
) -> None:
    """Chunk statistics per chunker: count, sizes, and chunks longer than the model's max sequence length."""
    from ragkit.cli.chunk_stats import chunk_stats

    try:
        chunk_stats(str(config), model, tuple(set_ or ()))
    except RagkitError as err:
        _fail(err)


app.command("compare")(compare_command)
app.command("report")(report_command)
app.command("finetune")(finetune_command)
app.command("synth")(synth_command)
app.command("agreement")(agreement_command)
app.command("monitor")(monitor_command)
app.command("classify")(classify_command)


@app.command()
def version() -> None:
    """Print the ragkit version."""
    from ragkit import __version__

    typer.echo(__version__)


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(main())
