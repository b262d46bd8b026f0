"""``ragkit monitor``: a query log through one pipeline (real BM25 / LanceDB, bundled model), logged rankings, CLI."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from ragkit.cli.main import app
from ragkit.errors import ConfigError
from ragkit.experiment.monitor import monitor, monitor_spec


@pytest.fixture()
def isolated_cache(monkeypatch):
    monkeypatch.setenv("RAGKIT_CACHE_DIR", os.environ["RAGKIT_CACHE_DIR"])


def _config(acme_dir, tmp_path, retrievers=None) -> dict:
    return {
        "name": "acme",
        "corpus": {"path": str(acme_dir / "docs")},
        "chunkers": [{"name": "markdown", "prefix_headings": True}],
        "retrievers": retrievers or [{"name": "bm25"}],
        "k": [1, 5, 10],
        "bootstrap": 200,
        "output_dir": str(tmp_path / "runs"),
        "report": False,
        "topics": {"min_topic_size": 3},
    }


@pytest.fixture(scope="module")
def log_run(acme_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("monitor")
    return monitor(acme_dir / "query_log.jsonl", _config(acme_dir, tmp), show_progress=False)


def test_monitor_writes_a_run_folder_with_the_topic_table(log_run):
    d = log_run.run_dir
    for name in ("config.yaml", "state.json", "per_query.parquet", "rankings.parquet", "results.parquet",
                 "topics.parquet", "question_topics.parquet"):
        assert (d / name).is_file(), name
    assert json.loads((d / "state.json").read_text())["finished"] is True
    per_query = pd.read_parquet(d / "per_query.parquet")
    assert len(per_query) == 85
    assert per_query["top1_cosine"].notna().equals(per_query["n_hits"] > 0)  # BM25 finds nothing for some
    quality = pd.read_parquet(d / "question_topics.parquet").set_index("query_id")["quality"]
    no_hits = per_query.loc[per_query["n_hits"] == 0, "query_id"]
    assert len(no_hits) and quality[no_hits].max() < quality.median()  # nothing found counts as the lowest cosine
    assert log_run.primary == "monitor:top1_cosine" and "doc:ndcg@10" not in per_query
    topics = pd.read_parquet(d / "topics.parquet")
    assert {"top1_cosine_mean", "feedback_mean", "gap", "gap_evidence"} <= set(topics.columns)
    assert topics["config"].iloc[0] == "markdown | bm25"
    assert {"content", "capability"} <= set(topics.head(3)["gap"])


def test_logged_rankings_replace_retrieval(acme_dir, tmp_path, embedder, isolated_cache):
    log = tmp_path / "log.jsonl"
    lines = [
        {"id": "a", "text": "how many weeks of parental leave", "feedback": 5,
         "retrieved": ["hr/parental-leave.md", "nope/unknown.md", {"id": "policies/travel-policy.md", "score": 0.2}]},
        {"id": "b", "text": "who wrote the travel policy", "feedback": 1},
    ]
    log.write_text("".join(json.dumps(x) + "\n" for x in lines))
    res = monitor(log, _config(acme_dir, tmp_path), show_progress=False)
    ranks = pd.read_parquet(res.run_dir / "rankings.parquet")
    a = ranks[ranks["query_id"] == "a"].sort_values("rank")
    assert a["doc_id"].tolist() == ["hr/parental-leave.md", "policies/travel-policy.md"]  # unknown id dropped
    assert a["score"].tolist() == pytest.approx([1.0, 0.2])  # 1/rank when no score is logged
    assert len(ranks[ranks["query_id"] == "b"]) > 0  # no logged ranking: retrieved with the pipeline
    # a logged document stands for its chunk closest to the question
    from ragkit.data.folder import load_folder
    from ragkit.registry import CHUNKERS

    chunks = [c for c in CHUNKERS.create("markdown", {"prefix_headings": True}).chunk_all(load_folder(acme_dir / "docs"))
              if c.doc_id == "hr/parental-leave.md"]
    cos = embedder.encode([c.indexed_text for c in chunks]) @ embedder.encode([lines[0]["text"]])[0]
    assert a["chunk_id"].iloc[0] == chunks[int(np.argmax(cos))].id
    top1 = pd.read_parquet(res.run_dir / "per_query.parquet").set_index("query_id").loc["a", "top1_cosine"]
    assert top1 == pytest.approx(float(cos.max()), abs=1e-5)


def test_pipeline_choice(acme_dir, tmp_path):
    cfg = _config(acme_dir, tmp_path, retrievers=[{"name": "bm25"}, {"name": "dense"}])
    with pytest.raises(ConfigError, match="2 pipelines; choose one with --pipeline"):
        monitor_spec(cfg, acme_dir / "query_log.jsonl")
    with pytest.raises(ConfigError, match="Did you mean 'markdown | dense'"):
        monitor_spec(cfg, acme_dir / "query_log.jsonl", pipeline="markdown | dens")
    spec = monitor_spec(cfg, acme_dir / "query_log.jsonl", pipeline="markdown | dense")
    assert [r["name"] for r in spec.retrievers] == ["dense"] and spec.questions.qrels is None
    with pytest.raises(ConfigError, match="does not exist"):
        monitor_spec(cfg, tmp_path / "missing.jsonl")


def test_cli_help_and_classify(log_run):
    runner = CliRunner()
    for cmd in ("monitor", "classify"):
        out = runner.invoke(app, [cmd, "--help"])
        assert out.exit_code == 0 and "Usage" in out.output
    out = runner.invoke(app, ["classify", str(log_run.run_dir), "who maintains the expense policy", "--json"])
    assert out.exit_code == 0, out.output
    row = json.loads(out.output.strip().splitlines()[-1])
    topics = pd.read_parquet(log_run.run_dir / "topics.parquet").set_index("topic")
    assert topics.loc[row["topic"], "gap"] == "capability"
    assert (log_run.run_dir / "topic_classifier" / "ragkit.json").is_file()  # fitted once, kept
    out = runner.invoke(app, ["classify", str(log_run.run_dir)])
    assert out.exit_code == 2 and "give questions" in out.output


def test_synth_topics_option_is_checked_before_generating(log_run):
    runner = CliRunner()
    out = runner.invoke(app, ["synth", "--corpus", "x", "--topics", "weakest:3"])
    assert out.exit_code == 2 and "--topics needs --run" in out.output
    out = runner.invoke(app, ["synth", "--run", str(log_run.run_dir), "--topics", "weakest:x"])
    assert out.exit_code == 2 and "expected weakest:N" in out.output


def test_a_log_that_is_not_utf8_is_named_with_the_fix(acme_dir, tmp_path):
    from ragkit.errors import DataValidationError

    log = tmp_path / "log.jsonl"
    log.write_bytes(b'{"id": "a", "text": "refund policy"}\n\xff\xfe not text\n')
    with pytest.raises(DataValidationError, match=r"log\.jsonl: invalid UTF-8 .*re-save the file as UTF-8"):
        monitor(log, _config(acme_dir, tmp_path), show_progress=False)
