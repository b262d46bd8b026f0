"""Label-free monitoring: per-configuration distributions of the cosine and rerank signals, how far they
can be trusted (AUROC vs a hit, from ``signal.parquet``) and, against a reference run, their drift."""

from __future__ import annotations

import re
from typing import Any

from ragkit.report.folder import RunFolder
from ragkit.report.labels import metric_label, num

__all__ = ["drift_section", "monitoring_section"]

_SIGNALS = (r"top1_cosine", r"mean_cosine@\d+", r"top1_top2_margin", r"rerank_top1", r"rerank_mean@\d+")


def _signal_columns(columns) -> list[str]:
    return [c for pattern in _SIGNALS for c in columns if re.fullmatch(pattern, str(c))]


def monitoring_section(folder: RunFolder) -> dict[str, Any] | None:
    """``signals``: per signal, the per-query values of each configuration; ``trust``: the AUROC table."""
    per_query = folder.parquet("per_query.parquet")
    if per_query is None:
        return None
    signals = []
    for column in _signal_columns(per_query.columns):
        values = {str(config): [v for v in (num(x) for x in group[column]) if v is not None]
                  for config, group in per_query.groupby("config", sort=False)}
        values = {c: v for c, v in values.items() if v}
        if values:
            signals.append({"key": column, "label": metric_label(column), "values": values})
    trust = _trust(folder)
    if not signals and trust is None:
        return None
    return {"signals": signals, "default": signals[0]["key"] if signals else None, "trust": trust}


def _trust(folder: RunFolder) -> dict[str, Any] | None:
    signal = folder.parquet("signal.parquet")
    if signal is None or signal.empty:
        return None
    ks = folder.config.get("k") or []
    names = [str(s) for s in signal["signal"].unique()]
    rows = []
    for config, group in signal.groupby("config", sort=False):
        auroc = dict(zip(group["signal"].astype(str), group["auroc"]))
        first = group.iloc[0]
        rows.append({"config": str(config), "base_rate": num(first.get("base_rate")), "n": int(first.get("n", 0)),
                     "auroc": [num(auroc.get(s), 3) for s in names]})
    return {"success": f"doc:hit_rate@{min(ks)}" if ks else "a hit", "signals": names,
            "labels": [metric_label(s) for s in names], "rows": rows}


def drift_section(folder: RunFolder, reference: RunFolder | None) -> dict[str, Any] | None:
    """KS and PSI of each monitoring signal from ``reference`` (run A) to this run (run B), per shared configuration."""
    if reference is None:
        return None
    a, b = reference.parquet("per_query.parquet"), folder.parquet("per_query.parquet")
    if a is None or b is None:
        return None
    from ragkit.metrics.drift import drift_table

    table = drift_table(a, b)
    rows = [{"config": str(r.config), "signal": metric_label(str(r.column)), "mean_a": num(r.mean_a),
             "mean_b": num(r.mean_b), "ks": num(r.ks), "ks_p": num(r.ks_p, 6), "psi": num(r.psi)}
            for r in table.itertuples(index=False)]
    return {"reference": str(reference.path), "rows": rows} if rows else None
