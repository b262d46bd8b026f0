"""The HTML report of a run: ``report_data.json`` (the data) and ``report.html`` (one self-contained page).

:func:`ragkit.report.model.build_report_data` reads a run folder into a :class:`~ragkit.report.model.ReportData`;
:func:`ragkit.report.render.render` turns that into the page; :func:`write_report` does both and writes the files.

Example:
    >>> from ragkit.report import write_report
    >>> write_report("runs/quickstart-20261123-163935")  # doctest: +SKIP
    PosixPath('runs/quickstart-20261123-163935/report.html')
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

log = logging.getLogger(__name__)

__all__ = ["build_report_data", "write_report"]


def build_report_data(*args, **kwargs):
    """See :func:`ragkit.report.model.build_report_data`."""
    from ragkit.report.model import build_report_data as build

    return build(*args, **kwargs)


def write_report(
    run_dir: str | Path,
    out: str | Path | None = None,
    *,
    baseline: str | None = None,
    include: list[str | Path] | tuple[str | Path, ...] = (),
    reference: str | Path | None = None,
) -> Path:
    """Build the data of a run folder, write it as JSON, render it, write the page; returns the page's path.

    Args:
        run_dir: the run folder; or a ``report_data.json`` file, which is only re-rendered.
        out: the HTML file; default ``<run_dir>/report.html``. The data goes next to it:
            ``report_data.json`` in the run folder, else ``<out stem>.json``.
        baseline: configuration the leaderboard tests against (default ``report.baseline``, else the first).
        include: more folders (agreement, fine-tune, topics) whose sections join the report.
        reference: an earlier run of the same experiment, for the monitoring drift table.

    Raises:
        ConfigError: missing or unknown folders.
    """
    from ragkit.experiment.store import atomic_write_bytes
    from ragkit.report.model import ReportData
    from ragkit.report.render import render

    t = time.perf_counter()
    source = Path(run_dir)
    if source.is_file() and source.suffix == ".json":
        data = ReportData.load(source)
        out = Path(out) if out else source.with_name("report.html")
    else:
        data = build_report_data(source, baseline=baseline, include=include, reference=reference)
        out = Path(out) if out else source / "report.html"
        data.save(source / "report_data.json" if out.parent.resolve() == source.resolve() else out.with_suffix(".json"))
    atomic_write_bytes(out, render(data).encode("utf-8"))
    log.info("report: %s (%.1f MB, %.1fs)", out, out.stat().st_size / 1e6, time.perf_counter() - t)
    return out
