"""Sections from the follow-up studies, each read from its contract file (see the run-folder contract):
topics (``topics.parquet`` + ``question_topics.parquet``), gold-vs-synthetic agreement
(``agreement.json``) and fine-tuning before/after (``finetune.json``)."""

from __future__ import annotations

import json
from typing import Any

from ragkit.report.folder import RunFolder
from ragkit.report.labels import clean, metric_label, num

__all__ = ["agreement_section", "finetune_section", "topics_section"]

_TOPIC_FIELDS = ("topic", "label", "keywords", "n", "share", "priority", "priority_rank", "gap", "gap_evidence")


def _signals(columns) -> list[str]:
    """Signals ``S`` with ``S_mean`` (and usually ``S_ci_low``/``S_ci_high``) columns, in column order."""
    return [str(c)[: -len("_mean")] for c in columns if str(c).endswith("_mean")]


def _topic_rows(topics) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    signals = _signals(topics.columns)
    if "priority_rank" in topics:
        topics = topics.sort_values("priority_rank", kind="stable")
    elif "priority" in topics:
        topics = topics.sort_values("priority", ascending=False, kind="stable")
    rows = []
    for rec in topics.to_dict("records"):
        row = {k: clean(rec.get(k)) for k in _TOPIC_FIELDS if k in rec}
        for key in ("share", "priority"):
            if key in row:
                row[key] = num(row[key])
        row["signals"] = [[num(rec.get(f"{s}_{part}")) for part in ("mean", "ci_low", "ci_high")] for s in signals]
        rows.append(row)
    return rows, [{"key": s, "label": metric_label(s)} for s in signals]


def _topic_map(points) -> dict[str, Any] | None:
    if points is None or not {"x", "y"} <= set(points.columns) or points.empty:
        return None
    groups = []
    for topic, g in points.groupby("topic", sort=True):
        label = str(g["label"].iloc[0]) if "label" in g else str(topic)
        groups.append({"topic": clean(topic), "label": label, "x": [num(v) for v in g["x"]],
                       "y": [num(v) for v in g["y"]],
                       "text": [str(t) for t in (g["text"] if "text" in g else g.get("query_id", []))]})
    return {"groups": groups}


def topics_section(folder: RunFolder) -> dict[str, Any] | None:
    """The topic table (priority order, gap labels, per-topic signal means with CIs) and the 2-D question map."""
    topics, points = folder.parquet("topics.parquet"), folder.parquet("question_topics.parquet")
    if topics is None and points is None:
        return None
    rows, signals = _topic_rows(topics) if topics is not None else ([], [])
    config = str(topics["config"].iloc[0]) if topics is not None and "config" in topics and len(topics) else None
    return {"config": config, "rows": rows, "signals": signals, "map": _topic_map(points)}


def _points(items: Any) -> list[dict[str, Any]]:
    return [{"config": str(p.get("config", "")), "gold": num(p.get("gold")), "synthetic": num(p.get("synthetic"))}
            for p in items or [] if isinstance(p, dict)]


def agreement_section(folder: RunFolder) -> dict[str, Any] | None:
    """Kendall tau / Spearman rho between the gold and synthetic rankings of configurations, with the scatter."""
    raw = folder.json("agreement.json")
    if not isinstance(raw, dict):
        return None
    per_metric = [{"metric": str(m), "label": metric_label(str(m)), "kendall_tau": num(v.get("kendall_tau")),
                   "spearman_rho": num(v.get("spearman_rho")), "points": _points(v.get("points"))}
                  for m, v in (raw.get("per_metric") or {}).items() if isinstance(v, dict)]
    primary = str(raw.get("primary") or "")
    return {
        "primary": primary, "primary_label": metric_label(primary) if primary else "",
        **{k: num(raw.get(k), 6) for k in ("kendall_tau", "kendall_p", "spearman_rho", "spearman_p")},
        "n_configs": clean(raw.get("n_configs")), "points": _points(raw.get("configs")), "per_metric": per_metric,
        "leakage": {str(k): {s: num(v.get(s)) for s in ("mean", "median", "p90")}
                    for k, v in (raw.get("leakage") or {}).items() if isinstance(v, dict)},
        "sources": {k: str(raw[k]) for k in ("gold_run", "synthetic_run", "synthetic_set") if raw.get(k)},
    }


def _ci(value: Any) -> list[float | None]:
    return [num(v) for v in value] if isinstance(value, (list, tuple)) and len(value) == 2 else [None, None]


def finetune_section(folder: RunFolder) -> dict[str, Any] | None:
    """Each metric before and after fine-tuning, the paired delta with its CI and p-value, and any warning."""
    raw = folder.json("finetune.json")
    if not isinstance(raw, dict):
        return None
    metrics = [{"metric": str(m.get("metric", "")), "label": metric_label(str(m.get("metric", ""))),
                "before": num(m.get("before")), "before_ci": _ci(m.get("before_ci")), "after": num(m.get("after")),
                "after_ci": _ci(m.get("after_ci")), "delta": num(m.get("delta")), "delta_ci": _ci(m.get("delta_ci")),
                "p_value": num(m.get("p_value"), 6), "test": str(m.get("test") or "")}
               for m in raw.get("metrics") or [] if isinstance(m, dict)]
    facts = [[k.replace("_", " "), str(raw[k])] for k in ("kind", "base_model", "model_dir", "train_source", "n_train",
                                                           "loss", "primary", "n_queries", "train_seconds")
             if raw.get(k) not in (None, "")]
    settings = [[str(k), json.dumps(v, default=str) if isinstance(v, (dict, list)) else str(v)]
                for k, v in (raw.get("settings") or {}).items()] if isinstance(raw.get("settings"), dict) else []
    warning = raw.get("warning")
    return {"metrics": metrics, "facts": facts, "settings": settings, "primary": str(raw.get("primary") or ""),
            "warning": str(warning) if warning else None}
