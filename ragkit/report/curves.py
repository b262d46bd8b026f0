"""Metric-vs-k curves and the chunking sweep (the primary metric against the mean chunk length)."""

from __future__ import annotations

from typing import Any

from ragkit.report.folder import RunFolder
from ragkit.report.labels import metric_label, num, split_metric

__all__ = ["curves_section", "sweep_section"]

_FAMILY_ORDER = ("ndcg", "recall", "hit_rate", "mrr", "precision", "map")


def curves_section(folder: RunFolder) -> dict[str, Any] | None:
    """Per (level, metric) family with at least two cut-offs: one series per configuration (mean and CI per k)."""
    results = folder.parquet("results.parquet")
    if results is None or results.empty:
        return None
    ir = results[results["level"].isin(["doc", "chunk"])]
    parsed = ir["metric"].map(lambda m: split_metric(m)[1:])
    ir = ir.assign(family=[p[0] for p in parsed], k=[p[1] for p in parsed]).dropna(subset=["k"])
    order = {c: i for i, c in enumerate(folder.config_order)}
    families = []
    for (level, family), group in ir.groupby(["level", "family"], sort=False):
        ks = sorted(int(k) for k in group["k"].unique())
        if len(ks) < 2:
            continue
        series = []
        for config, g in sorted(group.groupby("config", sort=False), key=lambda x: order.get(x[0], len(order))):
            g = g.set_index(g["k"].astype(int)).reindex(ks)
            series.append({"config": str(config), "mean": [num(v) for v in g["mean"]],
                           "lo": [num(v) for v in g["ci_low"]], "hi": [num(v) for v in g["ci_high"]]})
        families.append({"key": f"{level}:{family}", "label": f"{metric_label(f'{level}:{family}')} ({level} level)",
                         "k": ks, "series": series})
    if not families:
        return None
    rank = {f: i for i, f in enumerate(_FAMILY_ORDER)}
    families.sort(key=lambda f: (f["key"].startswith("chunk:"), rank.get(f["key"].split(":")[1], 99)))
    primary_family = ":".join([split_metric(folder.primary)[0], split_metric(folder.primary)[1]])
    default = next((f["key"] for f in families if f["key"] == primary_family), families[0]["key"])
    return {"families": families, "default": default}


def sweep_section(folder: RunFolder, cells: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The primary metric per chunker, one series per retriever (+ reranker), x = mean chunk length in characters.

    Needs at least two chunkers. Without chunk statistics (runs older than ``run_info.json``)
    the x axis is the chunker label.
    """
    results = folder.parquet("results.parquet")
    if results is None or not cells:
        return None
    chunkers = list(dict.fromkeys(c["chunker"]["label"] for c in cells))
    if len(chunkers) < 2:
        return None
    level, _, metric = folder.primary.rpartition(":")
    rows = results[(results["level"] == (level or "monitor")) & (results["metric"] == metric)].set_index("config")
    numeric = all(c.get("mean_chunk_chars") is not None for c in cells)
    points = []
    for cell in cells:
        if cell["config"] not in rows.index:
            continue
        row = rows.loc[cell["config"]]
        series = cell["retriever"]["label"] + (f" | {cell['reranker']['label']}" if cell.get("reranker") else "")
        points.append({"series": series, "chunker": cell["chunker"]["label"], "config": cell["config"],
                       "x": num(cell["mean_chunk_chars"], 1) if numeric else cell["chunker"]["label"],
                       "n_chunks": cell.get("n_chunks"), "mean": num(row["mean"]), "lo": num(row["ci_low"]),
                       "hi": num(row["ci_high"])})
    if not points:
        return None
    x_label = "mean chunk length (characters)" if numeric else "chunker"
    return {"metric": folder.primary, "metric_label": metric_label(folder.primary), "x_label": x_label,
            "numeric": numeric, "points": points, "chunkers": chunkers}
