"""End-to-end runs on a tiny corpus with the real chunkers, BM25, dense (LanceDB + bundled model), hybrid."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
import yaml

import ragkit

DOCS = {
    "billing/invoices.md": "---\ntitle: Invoices\nauthor: Ana\ndepartment: Finance\n---\n# Invoices\nInvoices are emailed on the first business day of each month. Error INV-404 means the invoice PDF is missing.\n",
    "billing/refunds.md": "---\ntitle: Refunds\nauthor: Ben\ndepartment: Finance\n---\n# Refunds\nCustomers can get their money back within thirty days of purchase.\n",
    "eng/deploy.md": "---\ntitle: Deploys\nauthor: Cy\ndepartment: Engineering\n---\n# Deploy\nWe ship to production every Tuesday after the canary passes.\n## Rollback\nRun `lf rollback --to previous` to undo a release.\n",
    "eng/oncall.md": "---\ntitle: On-call\nauthor: Cy\ndepartment: Engineering\n---\n# On-call\nThe on-call engineer answers pages within fifteen minutes.\n",
    "hr/leave.md": "---\ntitle: Leave\nauthor: Di\ndepartment: People\n---\n# Vacation\nEmployees have 25 days of paid vacation per year.\n",
    "hr/travel.md": "---\ntitle: Travel\nauthor: Di\ndepartment: People\n---\n# Travel\nBook flights through the travel portal; economy class for trips under six hours.\n",
}
QUESTIONS = [
    ("q1", "what does INV-404 mean", "billing/invoices.md", "Error INV-404 means the invoice PDF is missing."),
    ("q2", "how do I get reimbursed for a purchase I regret", "billing/refunds.md", "Customers can get their money back within thirty days of purchase."),
    ("q3", "how to undo a bad release", "eng/deploy.md", "Run `lf rollback --to previous` to undo a release."),
    ("q4", "how many holidays do staff get", "hr/leave.md", "Employees have 25 days of paid vacation per year."),
    ("q5", "unlabelled question about parking", None, None),
]


def make_experiment(root: Path, retrievers=None, chunkers=None) -> Path:
    from ragkit.data.folder import split_front_matter

    for rel, text in DOCS.items():
        (root / "docs" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "docs" / rel).write_text(text)
    qrels = []
    for qid, _, doc, quote in QUESTIONS:
        if doc:
            body = split_front_matter(DOCS[doc], doc)[1]
            start = body.index(quote)
            qrels.append({"query_id": qid, "doc_id": doc, "start": start, "end": start + len(quote), "grade": 1})
    (root / "q.jsonl").write_text("".join(f'{{"id": "{q}", "text": "{t}"}}\n' for q, t, _, _ in QUESTIONS))
    (root / "qrels.jsonl").write_text("".join(pd.Series(qrels).map(lambda r: __import__("json").dumps(r) + "\n")))
    cfg = {
        "name": "tiny",
        "corpus": {"path": "docs"},
        "questions": {"path": "q.jsonl", "qrels": "qrels.jsonl"},
        "chunkers": chunkers or [{"name": "chars", "size": 80, "overlap": 20}, {"name": "markdown"}],
        "retrievers": retrievers or [{"name": "bm25"}, {"name": "dense"}, {"name": "hybrid", "fusion": "rrf"}],
        "k": [1, 3],
        "primary": "doc:ndcg@3",
        "bootstrap": 200,
        "output_dir": "runs",
        "cache_dir": "cache",
    }
    path = root / "exp.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.fixture()
def isolated_cache(monkeypatch):
    # the runner points RAGKIT_CACHE_DIR at the experiment's cache_dir; restore it afterwards
    monkeypatch.setenv("RAGKIT_CACHE_DIR", os.environ["RAGKIT_CACHE_DIR"])


def test_run_writes_folder_and_sane_metrics(tmp_path, isolated_cache, embedder):
    res = ragkit.run(str(make_experiment(tmp_path)))
    for name in ("config.yaml", "results.parquet", "per_query.parquet", "rankings.parquet", "signal.parquet", "run.log", "state.json"):
        assert (res.run_dir / name).is_file(), name
    r = res.results
    assert set(r["config"]) == {f"{c} | {x}" for c in ("chars", "markdown") for x in ("bm25", "dense", "hybrid")}
    ir = r[r["level"].isin(["doc", "chunk"])]
    assert ir["mean"].between(0, 1).all()
    assert (ir["ci_low"] <= ir["mean"] + 1e-12).all() and (ir["mean"] <= ir["ci_high"] + 1e-12).all()
    pq = res.per_query
    assert len(pq) == 6 * 5 and pq.loc[pq.query_id == "q5", "doc:ndcg@3"].isna().all()
    assert pq["top1_cosine"].dropna().between(-1, 1).all()
    assert pq.loc[pq.top1_cosine.isna(), "n_hits"].eq(0).all()  # BM25 finds nothing for the parking question
    top = pq[(pq.config == "markdown | bm25") & (pq.query_id == "q1")].iloc[0]
    assert top["doc:hit_rate@1"] == 1.0  # the error code is a lexical hit
    assert set(res.rankings.columns) >= {"config", "query_id", "rank", "chunk_id", "doc_id", "score"}
    assert res.rankings.groupby(["config", "query_id"]).size().max() <= 3
    assert res.signal_success == "doc:hit_rate@1" and set(res.signal["signal"]) >= {"top1_cosine"}
    assert res.signal["auroc"].dropna().between(0, 1).all()
    assert {"q05", "q50", "q95"} <= set(r.columns) and (ir["q05"] <= ir["q95"]).all()
    board = res.leaderboard()
    assert list(board.index)[0] in set(r["config"]) and board.iloc[0, 0] >= board.iloc[-1, 0]


def test_rerun_is_cached_and_identical(tmp_path, isolated_cache, embedder):
    cfg = str(make_experiment(tmp_path))
    first = ragkit.run(cfg)
    calls = embedder.model_calls
    second = ragkit.run(cfg)
    assert embedder.model_calls == calls
    assert second.run_dir != first.run_dir
    pd.testing.assert_frame_equal(first.per_query, second.per_query)
    assert "cached" in (second.run_dir / "run.log").read_text()


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from ragkit.registry import RETRIEVERS
    from ragkit.retrieval.bm25 import BM25Retriever

    @RETRIEVERS.register("_dies_once")
    class DiesOnce(BM25Retriever):
        def retrieve(self, queries, k=10, where=None):
            marker = Path(os.environ["KILL_MARKER"])
            if not marker.exists():
                marker.write_text("killed")
                os.kill(os.getpid(), signal.SIGKILL)
            return super().retrieve(queries, k, where)

    from ragkit.cli.main import main
    sys.argv = ["ragkit", *sys.argv[1:]]
    main()
    """
)


def test_killed_run_resumes_without_redoing_cells(tmp_path, isolated_cache):
    cfg = make_experiment(tmp_path, retrievers=[{"name": "bm25"}, {"name": "_dies_once"}], chunkers=[{"name": "chars", "size": 80, "overlap": 20}])
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    env = {**os.environ, "KILL_MARKER": str(tmp_path / "marker"), "RAGKIT_CACHE_DIR": str(tmp_path / "cache")}
    first = subprocess.run([sys.executable, str(script), "run", str(cfg)], env=env, capture_output=True, text=True)
    assert first.returncode == -9, first.stderr
    run_dirs = list((tmp_path / "runs").iterdir())
    assert len(run_dirs) == 1 and not (run_dirs[0] / "results.parquet").exists()
    second = subprocess.run([sys.executable, str(script), "run", str(cfg), "--resume"], env=env, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    assert list((tmp_path / "runs").iterdir()) == run_dirs  # continued in the same folder
    log = (run_dirs[0] / "run.log").read_text()
    assert "cell chars | bm25: cached" in log and "cell chars | _dies_once: running" in log
    resumed = pd.read_parquet(run_dirs[0] / "per_query.parquet")
    fresh = subprocess.run([sys.executable, str(script), "run", str(cfg), "--no-cache", "--set", "cache_dir=fresh-cache", "--output-dir", str(tmp_path / "fresh")], env=env, capture_output=True, text=True)
    assert fresh.returncode == 0, fresh.stderr
    clean = pd.read_parquet(next((tmp_path / "fresh").iterdir()) / "per_query.parquet")
    cols = [c for c in clean.columns if c not in ("retrieve_ms", "index_s", "eval_s")]
    pd.testing.assert_frame_equal(resumed[cols], clean[cols])


def test_ann_index_recall_is_reported(tmp_path, isolated_cache, embedder):
    cfg = make_experiment(
        tmp_path,
        chunkers=[{"name": "chars", "size": 80, "overlap": 20}],
        retrievers=[{"name": "dense", "ann": "hnsw", "ann_threshold": 0}],
    )
    res = ragkit.run(str(cfg))
    row = res.results[(res.results.level == "cost") & (res.results.metric == "ann_recall@10")]
    assert len(row) == 1 and 0.0 <= row["mean"].iloc[0] <= 1.0


def test_rerank_stage_logs_scores_and_rank_changes(tmp_path, isolated_cache, embedder):
    cfg = make_experiment(
        tmp_path,
        chunkers=[{"name": "chars", "size": 80, "overlap": 20}],
        retrievers=[{"name": "bm25"}],
    )
    spec = yaml.safe_load(cfg.read_text())
    spec["rerankers"] = [{"name": "none"}, {"name": "late_interaction", "depth": 5}]
    cfg.write_text(yaml.safe_dump(spec))
    res = ragkit.run(str(cfg))
    pq = res.per_query
    assert set(pq.config) == {"chars | bm25", "chars | bm25 | late_interaction"}
    rr = pq[pq.config == "chars | bm25 | late_interaction"].set_index("query_id")
    assert rr.loc["q1", "rerank_top1"] > 0 and rr.loc["q1", "rerank_top1_prev_rank"] >= 1
    assert (rr["rerank_ms"].dropna() >= 0).all() and "rerank_rank_change@3" in rr
    stages = set(res.rankings.loc[res.rankings.config.str.endswith("late_interaction"), "stage"])
    assert stages == {"rerank"}
    assert "rerank_top1" in set(res.signal["signal"])
