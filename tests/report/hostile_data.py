"""Inputs of a small real run whose every user-visible string is hostile, and contract files of the follow-up studies.

The corpus, titles, metadata, question texts, configuration labels and the experiment name carry
script-injection payloads. The ones marked ``FLAG`` would set ``window.__xss`` if they ever ran, so
the browser test can tell that nothing executed; the others would open an ``alert`` dialog.
"""

from __future__ import annotations

import json
from pathlib import Path

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
CLOSE = "</script>"
FLAG = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>'
PAYLOADS = (SCRIPT, IMG, CLOSE, FLAG)
HOSTILE = f"{SCRIPT} {IMG} {CLOSE} <!-- {FLAG} \u2028"
# the labelled span of q1; with a whole-document chunk, the highlight must be exactly this text
ANSWER = f"The answer to the launch question is 42, {SCRIPT} and {FLAG} noted."

WHOLE = {"name": "chars", "label": f"whole {SCRIPT}", "size": 100000, "overlap": 0}
SMALL = {"name": "chars", "label": f"small {IMG}", "size": 160, "overlap": 0}


def _docs() -> list[dict]:
    filler = "Lattice Flow moves data between warehouses every night and keeps a ledger of each run. "
    return [
        {"id": "d1", "title": f"Launch notes {SCRIPT}", "metadata": {"author": IMG, "tags": [CLOSE, FLAG]},
         "text": filler * 2 + "\n\n" + ANSWER + "\n\n" + filler + HOSTILE},
        {"id": f"d2{IMG}", "title": f"Pricing {CLOSE}", "metadata": {"owner": SCRIPT},
         "text": "The team plan for pricing costs 40 euros per seat per month. " * 3 + HOSTILE},
        {"id": "d3", "title": "Retention", "metadata": {},
         "text": "Retention policy: logs are kept for 30 days, then deleted. " * 2 + f"Audit trail {FLAG} kept a year."},
    ]


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def write_hostile_inputs(folder: Path) -> dict:
    """Corpus, questions and qrels (JSONL) in ``folder``; returns the experiment config dict."""
    from ragkit.data.jsonl import load_documents_jsonl

    folder.mkdir(parents=True, exist_ok=True)
    _write_jsonl(folder / "docs.jsonl", _docs())
    text = {d.id: d.text for d in load_documents_jsonl(folder / "docs.jsonl", title_in_text=True)}
    start = text["d1"].index(ANSWER)
    _write_jsonl(folder / "questions.jsonl", [
        {"id": "q1", "text": f"What is the answer to the launch question {SCRIPT}?", "metadata": {"style": IMG}},
        {"id": "q2", "text": f"{IMG} pricing team plan per seat", "metadata": {"source": "synthetic", "x": FLAG}},
        {"id": "q3", "text": f"{CLOSE} how many days are logs kept retention", "metadata": {}},
        {"id": "q4", "text": "zebra migration across the savanna", "metadata": {}},
    ])
    _write_jsonl(folder / "qrels.jsonl", [
        {"query_id": "q1", "doc_id": "d1", "start": start, "end": start + len(ANSWER), "grade": 2},
        {"query_id": "q2", "doc_id": f"d2{IMG}", "grade": 1},
        {"query_id": "q3", "doc_id": "d3", "start": 0, "end": 58, "grade": 1},
        {"query_id": "q4", "doc_id": "d3", "grade": 1},
    ])
    return {
        "name": f"hostile {SCRIPT}",
        "corpus": {"path": str(folder / "docs.jsonl"), "format": "jsonl"},
        "questions": {"path": str(folder / "questions.jsonl"), "qrels": str(folder / "qrels.jsonl")},
        "chunkers": [WHOLE, SMALL],
        "retrievers": [{"name": "bm25", "label": f"bm25 {CLOSE}"}],
        "k": [1, 3, 10], "bootstrap": 200, "output_dir": str(folder / "runs"), "cache_dir": str(folder / "cache"),
    }


def write_study_files(run_dir: Path, config: str, query_ids: list[str]) -> None:
    """Contract files of the topic, agreement and fine-tune studies (small, hostile) in ``run_dir``."""
    import pandas as pd

    from ragkit.experiment.store import write_json, write_parquet

    write_parquet(pd.DataFrame({
        "config": [config, config], "topic": [0, 1], "label": [f"launch {SCRIPT}", f"pricing {IMG}"],
        "keywords": [f"launch, answer, {CLOSE}", "pricing, seat"], "n": [3, 1], "share": [0.75, 0.25],
        "top1_cosine_mean": [0.41, 0.62], "top1_cosine_ci_low": [0.30, 0.62], "top1_cosine_ci_high": [0.52, 0.62],
        "doc:ndcg@10_mean": [0.5, 1.0], "doc:ndcg@10_ci_low": [0.2, 1.0], "doc:ndcg@10_ci_high": [0.8, 1.0],
        "priority": [1.8, 0.2], "priority_rank": [1, 2], "gap": ["content", "capability"],
        "gap_evidence": [f"no document near the topic {FLAG}", "asks who last updated a document"],
    }), run_dir / "topics.parquet")
    write_parquet(pd.DataFrame({
        "query_id": query_ids, "text": [f"question {i} {FLAG}" for i in range(len(query_ids))],
        "topic": [0, 0, 0, 1][: len(query_ids)], "label": [f"launch {SCRIPT}"] * 3 + [f"pricing {IMG}"],
        "x": [0.1, 0.2, 0.3, 0.9][: len(query_ids)], "y": [0.5, 0.4, 0.6, -0.2][: len(query_ids)],
    }), run_dir / "question_topics.parquet")
    points = [{"config": config, "gold": 0.68, "synthetic": 0.71}, {"config": f"other {SCRIPT}", "gold": 0.5, "synthetic": 0.55}]
    write_json({"primary": "doc:ndcg@10", "kendall_tau": 0.87, "kendall_p": 0.001, "spearman_rho": 0.93,
                "spearman_p": 0.0002, "n_configs": 2, "configs": points,
                "per_metric": {"doc:ndcg@10": {"kendall_tau": 0.87, "spearman_rho": 0.93, "points": points}},
                "leakage": {"gold": {"mean": 0.21, "median": 0.2, "p90": 0.4},
                            "synthetic": {"mean": 0.35, "median": 0.33, "p90": 0.6}},
                "gold_run": "runs/gold", "synthetic_run": f"runs/{IMG}", "synthetic_set": "synth/set"},
               run_dir / "agreement.json")
    write_json({"base_model": "default", "model_dir": f"models/{SCRIPT}", "kind": "embedder", "train_source": "synthetic",
                "n_train": 1234, "loss": "mnrl", "primary": "doc:ndcg@10",
                "metrics": [{"metric": "doc:ndcg@10", "before": 0.645, "before_ci": [0.6, 0.69], "after": 0.62,
                             "after_ci": [0.57, 0.67], "delta": -0.025, "delta_ci": [-0.045, -0.005], "p_value": 0.01,
                             "test": "paired permutation"}],
                "n_queries": 4, "warning": f"the fine-tuned model is worse {IMG}", "train_seconds": 12.5,
                "settings": {"epochs": 1, "note": FLAG}}, run_dir / "finetune.json")
