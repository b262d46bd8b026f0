"""The per-query drill-down: every question with its top-k chunks per configuration, their scores, the
relevance labels and the chunk texts (deduplicated by ``(doc_id, start, end)``, long ones truncated).

The data is columnar and compact (a SciFact-size run of 300 questions x 10 configurations stays a few
MB); the page renders one question's details only when it is opened.
"""

from __future__ import annotations

import json
from typing import Any

from ragkit.report.folder import RunFolder
from ragkit.report.labels import metric_label, num, split_metric

__all__ = ["TEXT_LIMIT", "drilldown_section"]

TEXT_LIMIT = 1500  # characters of a chunk's text kept in the report; the rest is cut with a note
_ZERO_IFF_MISS = ("hit_rate", "recall", "mrr")
_META_LIMIT = 200
MIN_DEPTH = 10  # ranks shown per question: the primary metric's k, at least this many, at most what is stored


def _metadata(raw: Any) -> dict[str, str]:
    """A question's metadata (JSON text) as short strings; nested values as compact JSON."""
    try:
        meta = json.loads(raw) if isinstance(raw, str) else {}
    except json.JSONDecodeError:
        return {}
    if not isinstance(meta, dict):
        return {}
    out = {str(k): v if isinstance(v, str) else json.dumps(v, default=str) for k, v in meta.items()}
    return {k: v if len(v) <= _META_LIMIT else v[: _META_LIMIT - 1] + "…" for k, v in out.items()}


def _queries(folder: RunFolder, per_query, rankings) -> dict[str, list]:
    import pandas as pd

    questions = folder.parquet("questions.parquet")
    if questions is not None:
        q = questions.drop_duplicates("query_id")
        n = len(q)
        return {"id": [str(x) for x in q["query_id"]], "text": [str(x) for x in q["text"]],
                "source": [str(x) for x in q["source"]] if "source" in q else [""] * n,
                "metadata": [_metadata(m) for m in q["metadata"]] if "metadata" in q else [{}] * n}
    frame = per_query if per_query is not None else rankings
    ids = [str(x) for x in pd.unique(frame["query_id"])]
    return {"id": ids, "text": [""] * len(ids), "source": [""] * len(ids), "metadata": [{}] * len(ids)}


def _failure_columns(cols: list[str]) -> list[str]:
    """Per level and k, a column that is 0 exactly when nothing relevant is in the top k (hit rate, recall or MRR)."""
    out = []
    for level in ("doc", "chunk"):
        ks = sorted({k for lvl, name, k in map(split_metric, cols) if lvl == level and k and name in _ZERO_IFF_MISS})
        for k in ks:
            out += [f"{level}:{name}@{k}" for name in _ZERO_IFF_MISS if f"{level}:{name}@{k}" in cols][:1]
    return out


def _metric_columns(per_query, primary: str) -> tuple[list[str], list[str]]:
    """(columns shown for each question, the columns the failure filter offers)."""
    cols = [str(c) for c in per_query.columns]
    failures = _failure_columns(cols)
    doc = [m for m in failures if m.startswith("doc:")]
    chunk = [m for m in failures if m.startswith("chunk:")]
    wanted = [primary, *doc[:1], *doc[-1:], *chunk[-1:], f"doc:mrr@{split_metric(primary)[2]}", "top1_cosine",
              "rerank_top1"]
    return [c for c in dict.fromkeys(wanted) if c in cols], failures


def _chunk_table(rankings, chunks):
    """``rankings`` with a ``chunk`` code per row, and the table of distinct chunks the codes point at."""
    import pandas as pd

    r = rankings.sort_values(["config", "query_id", "rank"], kind="stable")
    if chunks is not None:
        r = r.merge(chunks[["config", "chunk_id", "start", "end", "text"]].drop_duplicates(["config", "chunk_id"]),
                    on=["config", "chunk_id"], how="left")
    else:
        r = r.assign(start=pd.NA, end=pd.NA, text=None)
    known = r["start"].notna()
    span = r["doc_id"].astype(str) + "\x00" + r["start"].astype(str) + "\x00" + r["end"].astype(str)
    key = span.where(known, r["doc_id"].astype(str) + "\x00?" + r["chunk_id"].astype(str))
    codes, _ = pd.factorize(key)
    r = r.assign(chunk=codes)
    first = r.drop_duplicates("chunk").sort_values("chunk")
    texts, cut = [], []
    for text in first["text"]:
        text = None if not isinstance(text, str) else text
        cut.append(len(text) if text is not None and len(text) > TEXT_LIMIT else None)
        texts.append(text[:TEXT_LIMIT] if text is not None else None)
    table = {"doc": [str(d) for d in first["doc_id"]],
             "start": [None if pd.isna(s) else int(s) for s in first["start"]],
             "end": [None if pd.isna(e) else int(e) for e in first["end"]],
             "id": [str(c) for c in first["chunk_id"]], "text": texts, "cut": cut}
    return r, table


def _qrels(folder: RunFolder, ids: list[str]) -> list[list[list[Any]]] | None:
    qrels = folder.parquet("qrels.parquet")
    if qrels is None:
        return None
    import pandas as pd

    grouped: dict[str, list[list[Any]]] = {}
    for q, d, g, s, e in qrels[["query_id", "doc_id", "grade", "start", "end"]].itertuples(index=False):
        span = [None, None] if pd.isna(s) or pd.isna(e) else [int(s), int(e)]
        grouped.setdefault(str(q), []).append([str(d), int(g), *span])
    return [grouped.get(q, []) for q in ids]


def _per_config(r, configs: list[str], ids: list[str]) -> tuple[dict, dict]:
    position = {q: i for i, q in enumerate(ids)}
    rankings = {c: [[] for _ in ids] for c in configs}
    scores = {c: [[] for _ in ids] for c in configs}
    for config, qid, chunk, score in r[["config", "query_id", "chunk", "score"]].itertuples(index=False):
        i = position.get(str(qid))
        if i is not None and str(config) in rankings:
            rankings[str(config)][i].append(int(chunk))
            scores[str(config)][i].append(num(score))
    return rankings, scores


def _values(per_query, configs: list[str], ids: list[str], columns: list[str]) -> dict[str, dict[str, list]]:
    """config -> column -> one value per question (in ``ids`` order; ``None`` where missing)."""
    if per_query is None:
        return {}
    indexed = per_query.assign(query_id=per_query["query_id"].astype(str)).set_index(["config", "query_id"])
    present = set(indexed.index.get_level_values(0))
    out = {}
    for config in configs:
        block = indexed.loc[config].reindex(ids) if config in present else None
        out[config] = {m: [num(v) for v in block[m]] if block is not None else [None] * len(ids) for m in columns}
    return out


def _badge(failures: list[str], depth: int, stored: int) -> str | None:
    """The hit/miss column shown next to each question: document level at the deepest k shown."""
    usable = [m for m in failures if (split_metric(m)[2] or 0) <= depth or depth >= stored]
    docs = [m for m in usable if m.startswith("doc:")] or usable
    return docs[-1] if docs else None


def drilldown_section(folder: RunFolder, default_config: str | None) -> dict[str, Any] | None:
    """Columnar per-query data: questions, labels, per-configuration metric values, rankings and chunk texts."""
    rankings, per_query = folder.parquet("rankings.parquet"), folder.parquet("per_query.parquet")
    if rankings is None or rankings.empty:
        return None
    queries = _queries(folder, per_query, rankings)
    ids = queries["id"]
    stored = int(rankings["rank"].max())
    depth = min(stored, max(MIN_DEPTH, split_metric(folder.primary)[2] or 0))
    rankings = rankings[rankings["rank"] <= depth]
    configs = [c for c in folder.config_order if c in set(rankings["config"])] or [str(c) for c in rankings["config"].unique()]
    r, chunk_table = _chunk_table(rankings, folder.parquet("chunks.parquet"))
    ranked, scores = _per_config(r, configs, ids)
    metrics, failures = _metric_columns(per_query, folder.primary_column) if per_query is not None else ([], [])
    values = _values(per_query, configs, ids, list(dict.fromkeys(metrics + failures)))
    stages = r.groupby("config", sort=False)["stage"].first().astype(str).to_dict() if "stage" in r else {}
    return {
        "k": depth, "stored_k": stored, "configs": configs,
        "default_config": default_config if default_config in configs else configs[0],
        "stages": {str(k): v for k, v in stages.items()}, "primary": folder.primary_column,
        "metrics": [{"key": m, "label": metric_label(m)} for m in metrics], "failures": failures,
        "badge": _badge(failures, depth, stored),
        "queries": queries, "qrels": _qrels(folder, ids),
        "values": values, "rankings": ranked, "scores": scores, "chunks": chunk_table, "text_limit": TEXT_LIMIT,
    }
