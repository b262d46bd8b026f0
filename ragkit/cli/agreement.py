"""``ragkit agreement``: do synthetic questions rank configurations the way gold questions do?"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from ragkit.errors import RagkitError


def _fmt(x: Any) -> str:
    return "-" if x is None else f"{x:+.3f}" if isinstance(x, float) and x < 0 else f"{x:.3f}"


def print_agreement(data: dict[str, Any], console=None) -> None:
    """The configurations ranked by gold and by synthetic questions, and tau/rho per metric."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console(width=max(Console().width, 110))
    primary, points = data["primary"], data["configs"]
    gold_rank = {p["config"]: i for i, p in enumerate(sorted(points, key=lambda p: -p["gold"]), 1)}
    synth_rank = {p["config"]: i for i, p in enumerate(sorted(points, key=lambda p: -p["synthetic"]), 1)}
    table = Table(title=f"{primary}: gold vs synthetic questions")
    for name, justify in (("configuration", "left"), ("gold", "right"), ("rank", "right"), ("synthetic", "right"), ("rank ", "right")):
        table.add_column(name, justify=justify, no_wrap=True)
    for p in sorted(points, key=lambda p: gold_rank[p["config"]]):
        c = p["config"]
        table.add_row(c, f"{p['gold']:.3f}", str(gold_rank[c]), f"{p['synthetic']:.3f}", str(synth_rank[c]),
                      style="yellow" if gold_rank[c] != synth_rank[c] else None)
    console.print(table)
    ci = data.get("kendall_tau_ci")
    console.print(f"[bold]Kendall tau-b {_fmt(data['kendall_tau'])}[/bold]" + (f" (95% CI over questions [{ci[0]:.2f}, {ci[1]:.2f}])" if ci else "")
                  + f", Spearman rho {_fmt(data['spearman_rho'])}, {data['n_configs']} configurations")
    metrics = Table(title="Rank agreement per metric")
    for name in ("metric", "Kendall tau-b", "Spearman rho"):
        metrics.add_column(name, justify="left" if name == "metric" else "right")
    for m, v in data["per_metric"].items():
        metrics.add_row(m, _fmt(v["kendall_tau"]), _fmt(v["spearman_rho"]), style="bold" if m == primary else None)
    console.print(metrics)
    lg, ls = data["leakage"]["gold"], data["leakage"]["synthetic"]
    console.print(f"leakage (share of question content words found in the labelled text): gold mean {lg.get('mean', 0):.2f} "
                  f"(p90 {lg.get('p90', 0):.2f}), synthetic mean {ls.get('mean', 0):.2f} (p90 {ls.get('p90', 0):.2f})")


def agreement_command(
    config: Path = typer.Argument(..., help="Experiment YAML with gold questions (or a BEIR corpus) and questions.synthetic."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Override a config value: KEY=VALUE (repeatable)."),
    output_dir: Optional[str] = typer.Option(None, help="Folder for the agreement folder (default: the config's output_dir)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Recompute every cell instead of reusing cached ones."),
) -> None:
    """Run one grid on gold and on synthetic questions; report Kendall tau / Spearman rho between their rankings."""
    from ragkit.cli.main import _setup_logging
    from ragkit.experiment.agreement import agreement

    _setup_logging(False)
    try:
        res = agreement(config, overrides=tuple(set_ or ()), output_dir=output_dir, use_cache=not no_cache)
    except RagkitError as err:
        typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    print_agreement(res.data)
    typer.echo(f"agreement folder: {res.path}")
