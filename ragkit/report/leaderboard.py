"""The leaderboard section: one row per configuration, metrics with 95% CIs, significance vs a baseline.

The baseline is ``report.baseline`` from the experiment (or ``--baseline``), else the first
configuration of the grid (first chunker x first retriever, no rerank: the playbook's BM25
starting point in the shipped configs). Every other configuration is paired with it on the
same queries (:func:`ragkit.metrics.paired.compare_to_baseline`: sign-flip permutation test,
Holm-corrected over all comparisons).
"""

from __future__ import annotations

import logging
from typing import Any

from ragkit.report.folder import RunFolder
from ragkit.report.labels import metric_label, num, split_metric

log = logging.getLogger(__name__)

__all__ = ["ALPHA", "choose_baseline", "leaderboard_section"]

ALPHA = 0.05
_EXTRA = ("doc:hit_rate@{kmin}", "doc:recall@{k}", "doc:mrr@{k}", "chunk:{name}@{k}", "monitor:top1_cosine")


def choose_baseline(folder: RunFolder, requested: str | None, notes: list[str]) -> tuple[str | None, str]:
    """(baseline configuration, why it was chosen); an unknown request falls back to the first with a note."""
    configs = folder.config_order
    if not configs:
        return None, ""
    requested = requested or (folder.config.get("report") or {}).get("baseline")
    if requested and requested in configs:
        return requested, "chosen with report.baseline"
    if requested:
        notes.append(f"baseline {requested!r} is not a configuration of this run; using the first, {configs[0]!r}")
    return configs[0], "the first configuration of the grid; set report.baseline (or --baseline) to choose another"


def _columns(results, primary: str) -> list[str]:
    available = set(results["level"] + ":" + results["metric"])
    _, name, k = split_metric(primary)
    ks = sorted({kk for c in available for kk in [split_metric(c)[2]] if kk is not None}) or [k or 10]
    extra = [c.format(kmin=ks[0], k=k or ks[-1], name=name) for c in _EXTRA]
    return [primary] + [c for c in dict.fromkeys(extra) if c in available and c != primary]


def _significance(folder: RunFolder, baseline: str | None) -> dict[str, dict[str, Any]]:
    per_query, column = folder.parquet("per_query.parquet"), folder.primary_column
    if baseline is None or per_query is None or column not in per_query or per_query["config"].nunique() < 2:
        return {}
    from ragkit.metrics.paired import compare_to_baseline

    seed = int(folder.config.get("seed") or 0)
    table = compare_to_baseline(per_query, column, baseline, n_resamples=10000, seed=seed)
    out = {}
    for row in table.itertuples(index=False):
        significant = row.p_holm < ALPHA
        mark = ("better" if row.delta > 0 else "worse") if significant and row.delta != 0 else ""
        out[str(row.config)] = {"delta": num(row.delta), "delta_ci": [num(row.delta_ci_low), num(row.delta_ci_high)],
                                "p": num(row.p_permutation, 6), "p_holm": num(row.p_holm, 6), "n": int(row.n),
                                "mark": mark}
    return out


def _ms_per_query(wide, config: str) -> float | None:
    """First stage + rerank, amortised over the batch of queries (as in the console leaderboard)."""
    if "cost:retrieve_ms" not in wide:
        return None
    rerank = wide.at[config, "cost:rerank_ms"] if "cost:rerank_ms" in wide else 0.0
    return num(wide.at[config, "cost:retrieve_ms"] + (0.0 if rerank != rerank else rerank), 3)


def leaderboard_section(folder: RunFolder, cells: list[dict], baseline: str | None, why: str) -> dict[str, Any] | None:
    """Rows best-first by the primary metric, each with ``[mean, ci_low, ci_high]`` per column and its test."""
    results = folder.parquet("results.parquet")
    if results is None or results.empty:
        return None
    r = results.assign(column=results["level"] + ":" + results["metric"])
    primary = folder.primary if folder.primary in set(r["column"]) else str(r["column"].iloc[0])
    columns = _columns(results, primary)
    wide = {stat: r.pivot_table(index="config", columns="column", values=stat, sort=False, dropna=False)
            for stat in ("mean", "ci_low", "ci_high")}
    parts = {c["config"]: c for c in cells}
    tests = _significance(folder, baseline) if primary == folder.primary else {}
    rows = []
    for config in wide["mean"][primary].sort_values(ascending=False, na_position="last").index:
        cell = parts.get(config, {})
        comp = {k: ((cell.get(k) or {}).get("label") or "") for k in ("chunker", "retriever", "reranker")}
        values = {c: [num(wide[s].at[config, c]) if c in wide[s] else None for s in ("mean", "ci_low", "ci_high")]
                  for c in columns}
        rows.append({"config": str(config), **comp, "values": values, "ms": _ms_per_query(wide["mean"], config),
                     "test": tests.get(str(config)), "is_baseline": config == baseline})
    return {
        "primary": primary, "columns": [{"key": c, "label": metric_label(c), "level": split_metric(c)[0]} for c in columns],
        "rows": rows, "baseline": baseline, "baseline_why": why, "alpha": ALPHA,
        "n_queries": int(results.loc[(r["column"] == primary), "n"].max()),
        "has_reranker": any(row["reranker"] for row in rows),
    }
