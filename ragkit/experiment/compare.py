"""Compare configurations inside one run folder, or the monitoring signals of two runs.

A run folder (``runs/<name>-<timestamp>/``) holds ``per_query.parquet``,
``results.parquet`` and the resolved ``config.yaml``. :func:`compare_configs`
pairs every configuration with a baseline on the same queries;
:func:`compare_runs` measures how far the label-free signals moved between runs.

Example:
    >>> from ragkit.experiment.compare import compare_configs  # doctest: +SKIP
    >>> compare_configs("runs/quickstart-20261123-163935", "chars | bm25")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ragkit.errors import ConfigError, did_you_mean

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["compare_configs", "compare_runs", "load_run"]

DEFAULT_METRIC = "doc:ndcg@10"


def load_run(run_dir: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a run folder's per-query and aggregate tables.

    Args:
        run_dir: the folder ``ragkit run`` wrote.

    Returns:
        ``(per_query, results)`` DataFrames.

    Raises:
        ConfigError: the folder or one of its parquet files is missing.

    Example:
        >>> per_query, results = load_run("runs/quickstart-20261123-163935")  # doctest: +SKIP
    """
    import pandas as pd

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ConfigError(
            f"run folder {str(run_dir)!r} does not exist; pass a folder written by `ragkit run`, "
            "e.g. runs/<name>-<timestamp>"
        )
    missing = [n for n in ("per_query.parquet", "results.parquet") if not (run_dir / n).is_file()]
    if missing:
        raise ConfigError(
            f"run folder {str(run_dir)!r} lacks {', '.join(missing)}; the run did not finish or this is not "
            "a run folder; re-run it (`ragkit run CONFIG --resume`) or pass another folder"
        )
    return pd.read_parquet(run_dir / "per_query.parquet"), pd.read_parquet(run_dir / "results.parquet")


def _primary_metric(run_dir: Path) -> str:
    """The run's primary metric from ``config.yaml`` (``doc:ndcg@10`` when absent)."""
    import yaml

    path = run_dir / "config.yaml"
    if not path.is_file():
        return DEFAULT_METRIC
    spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return str(spec.get("primary") or DEFAULT_METRIC)


def _check_choice(kind: str, value: str, allowed: list[str], flag: str) -> None:
    if value in allowed:
        return
    hint = did_you_mean(value, allowed)
    raise ConfigError(f"unknown {kind} {value!r}; the run has: {', '.join(allowed)}.{hint} Pass one of them as {flag}")


def compare_configs(
    run_dir: str | Path,
    baseline: str,
    metric: str | None = None,
    *,
    n_resamples: int = 10000,
    seed: int = 0,
) -> pd.DataFrame:
    """Paired comparison of every configuration of a run with a baseline.

    Args:
        run_dir: run folder.
        baseline: configuration name as in the leaderboard, e.g. ``"chars | bm25"``.
        metric: per-query metric column; default: the run's ``primary`` metric.
        n_resamples: resamples of the permutation test and bootstrap.
        seed: seed of both.

    Returns:
        The table of :func:`ragkit.metrics.paired.compare_to_baseline`.

    Raises:
        ConfigError: missing files, unknown baseline or metric (with a did-you-mean).

    Example:
        >>> compare_configs("runs/quickstart-20261123-163935", "chars | bm25")  # doctest: +SKIP
    """
    from ragkit.metrics.paired import compare_to_baseline

    run_dir = Path(run_dir)
    per_query, _ = load_run(run_dir)
    metric = metric or _primary_metric(run_dir)
    _check_choice("baseline", baseline, [str(c) for c in per_query["config"].unique()], "--baseline")
    metrics = [str(c) for c in per_query.columns if ":" in str(c)]
    _check_choice("metric", metric, metrics, "--metric")
    return compare_to_baseline(per_query, metric, baseline, n_resamples=n_resamples, seed=seed)


def compare_runs(run_a: str | Path, run_b: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Drift of the monitoring columns from run ``a`` (reference) to run ``b``.

    Args:
        run_a: reference run folder.
        run_b: run folder to check.
        columns: monitoring columns; default top-1 cosine, mean cosine@K, top-1/top-2 margin.

    Returns:
        The table of :func:`ragkit.metrics.drift.drift_table`.

    Raises:
        ConfigError: missing files, or the runs share no configuration.

    Example:
        >>> compare_runs("runs/a-20261123-163935", "runs/a-20261124-090000")  # doctest: +SKIP
    """
    from ragkit.metrics.drift import drift_table

    per_query_a, _ = load_run(run_a)
    per_query_b, _ = load_run(run_b)
    shared = set(per_query_a["config"]) & set(per_query_b["config"])
    if not shared:
        raise ConfigError(
            f"runs {str(run_a)!r} and {str(run_b)!r} share no configuration "
            f"(first has {sorted(set(per_query_a['config']))[:5]}, second {sorted(set(per_query_b['config']))[:5]}); "
            "compare runs of the same experiment"
        )
    return drift_table(per_query_a, per_query_b, columns)
