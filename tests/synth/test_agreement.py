"""Gold vs synthetic agreement: the rank statistics on hand-worked examples, and ``ragkit agreement`` end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from ragkit.data.types import Judgment, Qrels, Query
from ragkit.errors import ConfigError
from ragkit.experiment.agreement import agreement, rank_agreement
from ragkit.synth.synthetic_set import SyntheticSet


def test_tau_and_rho_hand_worked():
    # pairs (i<j): only (1,2) is discordant -> tau = (5 - 1) / 6; ranks differ by 1 twice -> rho = 1 - 6*2/(4*15)
    r = rank_agreement(np.array([0.1, 0.2, 0.3, 0.4]), np.array([0.2, 0.1, 0.3, 0.4]))
    assert r["kendall_tau"] == pytest.approx(4 / 6, abs=1e-4) and r["spearman_rho"] == pytest.approx(0.8, abs=1e-4)
    # a tie on the synthetic side: 5 concordant, 0 discordant, 1 tied pair -> tau-b = 5 / sqrt(6 * 5)
    r = rank_agreement(np.array([1.0, 2, 3, 4]), np.array([1.0, 1, 2, 3]))
    assert r["kendall_tau"] == pytest.approx(5 / np.sqrt(30), abs=1e-4)
    # reversed order
    assert rank_agreement(np.array([1.0, 2, 3]), np.array([3.0, 2, 1]))["kendall_tau"] == -1.0
    # undefined: one side constant, or a single configuration
    assert rank_agreement(np.array([1.0, 2]), np.array([0.5, 0.5]))["kendall_tau"] is None
    assert rank_agreement(np.array([1.0]), np.array([1.0]))["spearman_rho"] is None


@pytest.fixture
def agreement_config(small_docs, tmp_path, monkeypatch):
    monkeypatch.setenv("RAGKIT_CACHE_DIR", str(tmp_path / "cache"))  # the runner points it at cache_dir: restore it after
    with open(tmp_path / "docs.jsonl", "w") as f:
        for d in small_docs:
            f.write(json.dumps({"id": d.id, "text": d.text, "title": d.title, "metadata": dict(d.metadata)}) + "\n")
    gold = [("g1", "How much does the Team plan cost per month?", "pricing.md"),
            ("g2", "What does error LF-ERR-4012 mean?", "runbook.md"),
            ("g3", "How early must flights be booked?", "travel.md"),
            ("g4", "When do I have to upload hotel receipts?", "travel.md")]
    (tmp_path / "q.jsonl").write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t, _ in gold))
    (tmp_path / "qrels.jsonl").write_text("".join(json.dumps({"query_id": i, "doc_id": d}) + "\n" for i, _, d in gold))
    synth = [("s1", "Which SKU is the annual Team plan?", "pricing.md", 0, 200),
             ("s2", "Whom do I page when many pipelines time out?", "runbook.md", 150, 300),
             ("s3", "Which class do we fly on short trips?", "travel.md", 0, 250)]
    SyntheticSet(
        [Query(i, t, {"source": "synthetic"}) for i, t, *_ in synth],
        Qrels({i: [Judgment(d, 1, s, e)] for i, _, d, s, e in synth}),
        info={"kind": "synthetic_set"},
    ).save(tmp_path / "set")
    return {
        "name": "agree", "corpus": {"path": str(tmp_path / "docs.jsonl"), "format": "jsonl"},
        "questions": {"path": str(tmp_path / "q.jsonl"), "qrels": str(tmp_path / "qrels.jsonl"),
                      "synthetic": {"path": str(tmp_path / "set")}},
        "chunkers": [{"name": "chars", "size": 120, "overlap": 20}],
        "retrievers": [{"name": "bm25"}, {"name": "bm25", "label": "bm25-b0", "b": 0.0},
                       {"name": "bm25", "label": "bm25-k0.1", "k1": 0.1, "b": 1.0}],
        "metrics": ["ndcg", "recall"], "k": [1, 3], "levels": ["doc", "chunk"], "primary": "doc:ndcg@3",
        "bootstrap": 50, "output_dir": str(tmp_path / "runs"), "report": False,
        "cache_dir": str(tmp_path / "cache"),
    }


def test_agreement_writes_the_contract(agreement_config, tmp_path):
    res = agreement(agreement_config)
    data = json.loads((res.path / "agreement.json").read_text())
    assert res.path.parent == tmp_path / "runs" and res.path.name.startswith("agree-agreement-")
    assert data["primary"] == "doc:ndcg@3" and data["n_configs"] == 3 and len(data["configs"]) == 3
    for key in ("kendall_tau", "kendall_p", "spearman_rho", "spearman_p", "per_metric", "leakage", "gold_run", "synthetic_run", "synthetic_set"):
        assert key in data
    assert set(data["configs"][0]) >= {"config", "gold", "synthetic"}
    assert {"doc:ndcg@3", "doc:recall@1", "chunk:ndcg@3"} <= set(data["per_metric"])
    points = data["per_metric"]["doc:ndcg@3"]["points"]
    expected = rank_agreement(np.array([p["gold"] for p in points]), np.array([p["synthetic"] for p in points]))
    assert data["kendall_tau"] == expected["kendall_tau"] and data["spearman_rho"] == expected["spearman_rho"]
    assert data["leakage"]["gold"]["n"] == 4 and data["leakage"]["synthetic"]["n"] == 3
    assert data["synthetic_set"] == str(tmp_path / "set")
    assert (res.path / "agreement.parquet").is_file()
    gold_pq = __import__("pandas").read_parquet(f"{data['gold_run']}/per_query.parquet")
    synth_pq = __import__("pandas").read_parquet(f"{data['synthetic_run']}/per_query.parquet")
    assert set(gold_pq["query_id"]) == {"g1", "g2", "g3", "g4"} and set(synth_pq["query_id"]) == {"s1", "s2", "s3"}


def test_agreement_needs_both_sides(agreement_config):
    no_synth = {**agreement_config, "questions": {k: v for k, v in agreement_config["questions"].items() if k != "synthetic"}}
    with pytest.raises(ConfigError, match="questions.synthetic"):
        agreement(no_synth)
    no_gold = {**agreement_config, "questions": {"synthetic": agreement_config["questions"]["synthetic"]}}
    with pytest.raises(ConfigError, match="gold questions"):
        agreement(no_gold)


def test_cli_agreement_prints_the_table(agreement_config, tmp_path):
    import yaml

    from ragkit.cli.main import app

    path = tmp_path / "agree.yaml"
    path.write_text(yaml.safe_dump(agreement_config))
    out = CliRunner().invoke(app, ["agreement", str(path)])
    assert out.exit_code == 0, out.output
    assert "gold vs synthetic questions" in out.output and "Kendall tau-b" in out.output and "agreement folder:" in out.output
    assert CliRunner().invoke(app, ["agreement", "--help"]).exit_code == 0
