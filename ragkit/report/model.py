"""``ReportData``: everything a report shows, built from the files of a run folder alone.

The data is plain JSON (``report_data.json`` next to the report), so a report can be
re-rendered, diffed or read by other tools without the HTML; :func:`ragkit.report.render.render`
turns it into the page. Every section is optional: ``None`` means its files were absent.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ragkit.errors import DataValidationError
from ragkit.report.folder import RunFolder
from ragkit.report.labels import clean

__all__ = ["SCHEMA_VERSION", "ReportData", "build_report_data"]

SCHEMA_VERSION = 1


@dataclass
class ReportData:
    """The report's content, section by section (each a JSON-able dict, or ``None`` when absent).

    Example:
        >>> data = ReportData(title="demo")
        >>> ReportData.from_dict(data.to_dict()) == data
        True
    """

    title: str
    run_dir: str = ""
    created: str = ""
    ragkit_version: str = ""
    schema_version: int = SCHEMA_VERSION
    notes: list[str] = field(default_factory=list)
    summary: dict[str, Any] | None = None
    leaderboard: dict[str, Any] | None = None
    curves: dict[str, Any] | None = None
    sweep: dict[str, Any] | None = None
    monitoring: dict[str, Any] | None = None
    drift: dict[str, Any] | None = None
    topics: dict[str, Any] | None = None
    agreement: dict[str, Any] | None = None
    finetune: dict[str, Any] | None = None
    drilldown: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return clean(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReportData:
        """Inverse of :meth:`to_dict`; unknown keys (from newer versions) are ignored."""
        if not isinstance(data, dict) or "title" not in data:
            raise DataValidationError("report data must be a JSON object with at least a 'title'; "
                                      "re-create it with `ragkit report RUN_DIR`")
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def save(self, path: str | Path) -> None:
        """Write as JSON, atomically."""
        from ragkit.experiment.store import atomic_write_bytes

        atomic_write_bytes(Path(path), json.dumps(self.to_dict(), allow_nan=False, ensure_ascii=False).encode())

    @classmethod
    def load(cls, path: str | Path) -> ReportData:
        try:
            return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except json.JSONDecodeError as err:
            raise DataValidationError(f"{path}: invalid JSON ({err}); re-create it with `ragkit report RUN_DIR`") from None


def _first(folders: list[RunFolder], build) -> Any:
    """The section from the first folder that has it (the run first, then ``--include`` folders)."""
    for folder in folders:
        section = build(folder)
        if section is not None:
            return section
    return None


def build_report_data(
    run_dir: str | Path,
    *,
    baseline: str | None = None,
    include: list[str | Path] | tuple[str | Path, ...] = (),
    reference: str | Path | None = None,
) -> ReportData:
    """Build the report's data from a run folder (and optional extra folders).

    Args:
        run_dir: a run folder (or an agreement / fine-tune folder).
        baseline: configuration the leaderboard tests against; default ``report.baseline`` from the
            run's config, else its first configuration.
        include: more folders whose topic, agreement or fine-tune files join the report.
        reference: an earlier run of the same experiment: adds the monitoring drift table.

    Returns:
        The :class:`ReportData`.

    Raises:
        ConfigError: a folder does not exist or holds none of the known files.

    Example:
        >>> data = build_report_data("runs/quickstart-20261123-163935")  # doctest: +SKIP
    """
    from ragkit import __version__
    from ragkit.report.curves import curves_section, sweep_section
    from ragkit.report.drilldown import drilldown_section
    from ragkit.report.leaderboard import choose_baseline, leaderboard_section
    from ragkit.report.monitoring import drift_section, monitoring_section
    from ragkit.report.studies import (
        agreement_section,
        finetune_section,
        topics_section,
    )
    from ragkit.report.summary import cells, summary_section

    folder = RunFolder(run_dir)
    folders = [folder, *(RunFolder(p) for p in include)]
    notes: list[str] = []
    all_cells = cells(folder)
    base, why = choose_baseline(folder, baseline, notes)
    board = leaderboard_section(folder, all_cells, base, why)
    best = board["rows"][0]["config"] if board and board["rows"] else None
    summary = summary_section(folder)
    return ReportData(
        title=(summary or {}).get("name") or folder.path.name,
        run_dir=str(folder.path.resolve()),
        created=dt.datetime.now().isoformat(timespec="seconds"),
        ragkit_version=__version__,
        notes=notes,
        summary=summary,
        leaderboard=board,
        curves=curves_section(folder),
        sweep=sweep_section(folder, all_cells),
        monitoring=monitoring_section(folder),
        drift=drift_section(folder, RunFolder(reference) if reference else None),
        topics=_first(folders, topics_section),
        agreement=_first(folders, agreement_section),
        finetune=_first(folders, finetune_section),
        drilldown=drilldown_section(folder, best),
    )
