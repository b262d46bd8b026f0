"""``ragkit compare``: paired tests against a baseline inside one run, or signal drift between two runs."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ragkit.errors import ConfigError, RagkitError

__all__ = ["compare", "compare_command"]

_ALPHA = 0.05


def _p(value: float) -> str:
    return f"{value:.1e}" if value < 1e-4 else f"{value:.4f}"


def _console(console=None):
    from rich.console import Console

    return console or Console(width=max(Console().width, 150))


def _print_paired(table_df, console) -> None:
    from rich.table import Table

    title = "no other configuration"
    if len(table_df):
        first = table_df.iloc[0]
        title = f"{first['metric']} vs baseline {first['baseline']!r} (paired, 95% bootstrap CI, Holm over permutation p)"
    table = Table(title=title, pad_edge=False)
    headers = ("configuration", "mean", "baseline", "delta", "delta 95% CI", "p perm", "p wilcoxon", "p holm", "", "n")
    for name in headers:
        table.add_column(name, justify="left" if name == "configuration" else "right", no_wrap=True)
    for row in table_df.itertuples(index=False):
        mark = "*" if row.p_holm < _ALPHA else ""
        table.add_row(
            str(row.config), f"{row.mean:.3f}", f"{row.baseline_mean:.3f}", f"{row.delta:+.3f}",
            f"[{row.delta_ci_low:+.3f}, {row.delta_ci_high:+.3f}]", _p(row.p_permutation),
            _p(row.p_wilcoxon), _p(row.p_holm), mark, str(row.n),
        )
    console.print(table)
    console.print(f"* p_holm < {_ALPHA}")


def _print_drift(drift_df, console) -> None:
    from rich.table import Table

    title = "Monitoring drift (run A = reference; PSI < 0.1 stable, 0.1-0.25 moderate, > 0.25 large)"
    table = Table(title=title, pad_edge=False)
    for name in ("configuration", "signal", "mean A", "mean B", "KS", "KS p", "PSI"):
        table.add_column(name, justify="left" if name in ("configuration", "signal") else "right", no_wrap=True)
    for row in drift_df.itertuples(index=False):
        style = "bold red" if row.psi > 0.25 else None
        table.add_row(str(row.config), str(row.column), f"{row.mean_a:.3f}", f"{row.mean_b:.3f}",
                      f"{row.ks:.3f}", _p(row.ks_p), f"{row.psi:.3f}", style=style)
    console.print(table)


def compare(run_dirs: list[Path], baseline: str | None, metric: str | None, console=None) -> None:
    """Print the paired table (one run + ``baseline``) or the drift table (two runs).

    Raises:
        ConfigError: wrong number of run folders, or one run without a baseline.
    """
    from ragkit.experiment.compare import compare_configs, compare_runs

    console = _console(console)
    if len(run_dirs) == 1:
        if not baseline:
            raise ConfigError(
                "one run folder needs --baseline NAME (a configuration, e.g. 'chars | bm25'); "
                "or pass two run folders to see drift"
            )
        _print_paired(compare_configs(run_dirs[0], baseline, metric), console)
    elif len(run_dirs) == 2:
        _print_drift(compare_runs(run_dirs[0], run_dirs[1]), console)
    else:
        raise ConfigError(f"compare takes one or two run folders; got {len(run_dirs)}")


def compare_command(
    run_dir: Path = typer.Argument(..., help="Run folder, e.g. runs/quickstart-20261123-163935."),
    run_dir_b: Optional[Path] = typer.Argument(None, help="Second run folder: show signal drift from RUN_DIR to it."),
    baseline: Optional[str] = typer.Option(None, "--baseline", "-b", help="Baseline configuration, e.g. 'chars | bm25'"),
    metric: Optional[str] = typer.Option(None, "--metric", "-m", help="Per-query metric (default: the run's primary)."),
) -> None:
    """Compare configurations against a baseline (paired tests), or two runs (signal drift)."""
    try:
        compare([run_dir] if run_dir_b is None else [run_dir, run_dir_b], baseline, metric)
    except RagkitError as err:
        typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
