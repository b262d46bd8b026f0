"""``ragkit report``: the self-contained HTML report of a run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ragkit.errors import RagkitError

__all__ = ["report_command"]


def report_command(
    run_dir: Path = typer.Argument(..., help="Run folder, e.g. runs/quickstart-20261123-163935 (or a report_data.json)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="HTML file to write (default: RUN_DIR/report.html)."),
    baseline: Optional[str] = typer.Option(None, "--baseline", "-b", help="Configuration to test the others against "
                                           "(default: report.baseline from the config, else the first)."),
    include: Optional[list[Path]] = typer.Option(None, "--include", help="Another folder (agreement, fine-tune, topics) "
                                                 "whose sections join the report; repeatable."),
    reference: Optional[Path] = typer.Option(None, "--reference", help="An earlier run of the same experiment: adds "
                                             "the drift of the monitoring signals."),
) -> None:
    """Write the report of a run: one HTML file that needs no network, plus its data as report_data.json."""
    from ragkit.report import write_report

    try:
        path = write_report(run_dir, output, baseline=baseline, include=include or (), reference=reference)
    except RagkitError as err:
        typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    typer.echo(f"report: {path}")
