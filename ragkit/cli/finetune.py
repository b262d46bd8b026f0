"""``ragkit finetune``: fine-tune an embedder or reranker and compare it with the base model."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

__all__ = ["finetune_command", "print_finetune"]


def print_finetune(report: dict, console=None) -> None:
    """The before/after table (95% bootstrap CIs, paired permutation p) and, when worse, a loud warning."""
    from rich.console import Console
    from rich.panel import Panel
    from rich.table import Table

    console = console or Console(width=max(Console().width, 120))
    title = f"{report['kind']} fine-tune on {report['n_train']} {report['train_source']} rows; {report['n_queries']} held-out questions"
    table = Table(title=title, caption=f"before = {report['baseline']}", pad_edge=False)
    for name in ("metric", "before", "95% CI", "after", "95% CI ", "delta", "delta 95% CI", "p"):
        table.add_column(name, justify="left" if name == "metric" else "right", no_wrap=True)
    for r in report["metrics"]:
        style = "bold" if r["metric"] == report["primary"] else None
        ci = lambda v: f"[{v[0]:.3f}, {v[1]:.3f}]"  # noqa: E731
        table.add_row(r["metric"], f"{r['before']:.4f}", ci(r["before_ci"]), f"{r['after']:.4f}", ci(r["after_ci"]),
                      f"{r['delta']:+.4f}", f"[{r['delta_ci'][0]:+.3f}, {r['delta_ci'][1]:+.3f}]", f"{r['p_value']:.4f}", style=style)
    console.print(table)
    if report["warning"]:
        console.print(Panel(report["warning"], title="WARNING: the fine-tuned model is worse", style="bold red"))


def finetune_command(
    config: Path = typer.Argument(..., help="Fine-tune YAML file, e.g. experiments/finetune_scifact.yaml."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Override a config value: KEY=VALUE, e.g. embedder.epochs=2 (repeatable)."),
    output_dir: Optional[str] = typer.Option(None, help="Folder for the run folder and models (default: the config's output_dir)."),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="Log every step."),
) -> None:
    """Mine hard negatives, fine-tune the embedder (or reranker), and test it against the base model."""
    from ragkit.cli.main import _fail, _setup_logging
    from ragkit.errors import RagkitError
    from ragkit.train.finetune import finetune

    _setup_logging(verbose)
    try:
        res = finetune(config, overrides=set_ or (), output_dir=output_dir)
    except RagkitError as err:
        _fail(err)
    print_finetune(res.report)
    typer.echo(f"model: {res.report['model_dir']}\nrun folder: {res.run_dir}")
