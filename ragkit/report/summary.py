"""The run-summary section: corpus, questions, the configuration grid and what varies between cells."""

from __future__ import annotations

import json
import os
from typing import Any

from ragkit.report.folder import RunFolder

__all__ = ["cells", "summary_section"]

_SETTINGS = (("metrics", "metrics"), ("k", "cut-offs k"), ("levels", "relevance levels"), ("primary", "primary metric"),
             ("depth", "candidates per retriever"), ("monitor_model", "monitoring model"), ("device", "device"),
             ("seed", "seed"), ("bootstrap", "bootstrap resamples"), ("where", "metadata filter"))


def _show(value: Any) -> str:
    if isinstance(value, (dict, list)):
        if isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
            return ", ".join(map(str, value))
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def cells(folder: RunFolder) -> list[dict[str, Any]]:
    """One dict per configuration: ``config`` and ``chunker`` / ``retriever`` / ``reranker`` components.

    From ``run_info.json`` when present (names, labels, params, chunk statistics); older runs fall back
    to the labels in ``per_query.parquet`` (the reranker being the third part of the configuration name).
    """
    info = folder.json("run_info.json")
    if info and info.get("cells"):
        return list(info["cells"])
    per_query = folder.parquet("per_query.parquet")
    if per_query is None:
        return []
    out = []
    for config, chunker, retriever in per_query[["config", "chunker", "retriever"]].drop_duplicates().itertuples(index=False):
        parts = str(config).split(" | ")
        reranker = {"name": parts[2], "label": parts[2], "params": {}} if len(parts) > 2 else None
        out.append({"config": str(config), "chunker": {"name": str(chunker), "label": str(chunker), "params": {}},
                    "retriever": {"name": str(retriever), "label": str(retriever), "params": {}}, "reranker": reranker})
    return out


def _flat(cell: dict[str, Any]) -> dict[str, str]:
    out = {}
    for kind in ("chunker", "retriever", "reranker"):
        comp = cell.get(kind)
        out[kind] = comp["label"] if comp else "none"
        for key, value in (comp or {}).get("params", {}).items():
            out[f"{kind}.{key}"] = _show(value)
    return out


def _varying(all_cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keys whose value differs between configurations, with their distinct values in first-seen order."""
    flats = [_flat(c) for c in all_cells]
    keys = list(dict.fromkeys(k for f in flats for k in f))
    out = []
    for key in keys:
        values = list(dict.fromkeys(f.get(key, "—") for f in flats))
        if len(values) > 1:
            out.append({"key": key, "values": values})
    return out


def _components(all_cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows, seen = [], set()
    for cell in all_cells:
        for kind in ("chunker", "retriever", "reranker"):
            comp = cell.get(kind)
            if not comp or (kind, comp["label"]) in seen:
                continue
            seen.add((kind, comp["label"]))
            params = ", ".join(f"{k}={_show(v)}" for k, v in comp.get("params", {}).items())
            row = {"kind": kind, "label": comp["label"], "name": comp["name"], "params": params}
            if kind == "chunker":
                row.update({k: cell.get(k) for k in ("n_chunks", "mean_chunk_chars")})
            rows.append(row)
    order = {"chunker": 0, "retriever": 1, "reranker": 2}
    return sorted(rows, key=lambda r: order[r["kind"]])  # stable: first-seen order within a stage


def _questions(folder: RunFolder) -> dict[str, Any] | None:
    info = (folder.json("run_info.json") or {}).get("questions") or {}
    questions, per_query = folder.parquet("questions.parquet"), folder.parquet("per_query.parquet")
    n = info.get("n", len(questions) if questions is not None else None)
    if n is None and per_query is not None:
        n = int(per_query["query_id"].nunique())
    if n is None:
        return None
    sources = ({str(k): int(v) for k, v in questions["source"].value_counts().items()}
               if questions is not None and "source" in questions else {})
    return {"n": n, **{k: info.get(k) for k in ("n_labelled", "n_judgments", "n_span_judgments")}, "sources": sources}


def summary_section(folder: RunFolder) -> dict[str, Any] | None:
    """Corpus, questions, grid and fixed settings; ``None`` for a folder without a run."""
    cfg = folder.config
    all_cells = cells(folder)
    if not cfg and not all_cells:
        return None
    corpus = dict((folder.json("run_info.json") or {}).get("corpus") or cfg.get("corpus") or {})
    if corpus.get("path") and cfg.get("base_dir") and "://" not in str(corpus["path"]):
        corpus["path"] = os.path.normpath(os.path.join(cfg["base_dir"], os.path.expanduser(str(corpus["path"]))))
    state = folder.json("state.json") or {}
    return {
        "name": str(cfg.get("name") or folder.path.name),
        "corpus": {k: corpus.get(k) for k in ("path", "format", "n_docs", "n_chars")} if corpus else None,
        "questions": _questions(folder),
        "n_configs": len(all_cells),
        "components": _components(all_cells),
        "varying": _varying(all_cells),
        "settings": [[label, _show(cfg[key])] for key, label in _SETTINGS if cfg.get(key) not in (None, [], {})],
        "finished": state.get("finished"),
    }
