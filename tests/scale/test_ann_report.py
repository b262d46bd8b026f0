"""A run that searches an ANN index reports its recall@10 vs exact search: per query, in results, leaderboard, log."""

from __future__ import annotations

import os

import pytest

import ragkit
from ragkit.experiment.leaderboard import leaderboard_frame, print_leaderboard


@pytest.fixture()
def isolated_cache(monkeypatch):
    monkeypatch.setenv("RAGKIT_CACHE_DIR", os.environ["RAGKIT_CACHE_DIR"])


def test_ann_recall_reaches_every_output(acme_config, tmp_path, isolated_cache, embedder, capsys):
    ann = {"name": "dense", "ann": "hnsw", "ann_threshold": 0, "ann_params": {"m": 8}, "ef": 32, "ann_recall_sample": 20,
           "uri": str(tmp_path / "db")}
    member = {"name": "dense", "params": {k: v for k, v in ann.items() if k != "name"}}
    # cache_dir None: the session's embedding cache, shared with the other tests that embed Acme
    cfg = acme_config(tmp_path, "ann", retrievers=[{"name": "bm25"}, ann, {"name": "hybrid", "retrievers": ["bm25", member]}],
                      cache_dir=None)
    cfg["questions"]["limit"] = 20
    res = ragkit.run(cfg)
    pq = res.per_query.set_index("config")
    assert pq.loc["chars | bm25"].get("ann_recall@10") is None or pq.loc["chars | bm25", "ann_recall@10"].isna().all()
    for config in ("chars | dense", "chars | hybrid"):  # the hybrid inherits its dense member's recall
        values = pq.loc[config, "ann_recall@10"]
        assert values.nunique() == 1 and 0.5 <= values.iloc[0] <= 1.0
    cost = res.results[(res.results.level == "cost") & (res.results.metric == "ann_recall@10")].dropna(subset=["mean"])
    assert set(cost.config) == {"chars | dense", "chars | hybrid"}  # exact search (bm25) has none
    board = leaderboard_frame(res.results, res.primary)
    assert board["ANN recall@10"].notna().sum() == 2
    print_leaderboard(res.results, res.primary)
    assert "ANN recall@10" in capsys.readouterr().out
    assert "hnsw index recall@10 vs exact search" in (res.run_dir / "run.log").read_text()
