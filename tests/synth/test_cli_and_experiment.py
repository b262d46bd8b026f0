"""``ragkit synth`` from flags and from a config, and ``questions: {synthetic: ...}`` inside an experiment."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from scripted import scripted_question
from ragkit.cli.main import app
from ragkit.errors import ConfigError


@pytest.fixture
def corpus_jsonl(small_docs, tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps({"id": d.id, "text": d.text, "title": d.title, "metadata": dict(d.metadata)}) + "\n" for d in small_docs))
    return path


def test_synth_from_flags_prints_the_gate_summary(corpus_jsonl, chat_server, tmp_path):
    chat_server.reply_fn = scripted_question
    out = CliRunner().invoke(app, [
        "synth", "--corpus", str(corpus_jsonl), "--format", "jsonl", "-n", "3", "-o", str(tmp_path / "set"),
        "--backend", "openai", "--base-url", chat_server.url, "--model", "served-model", "--seed", "2",
        "--set", "questions.synthetic.min_passage_chars=100", "--set", "questions.synthetic.gates.max_leakage=null",
    ])
    assert out.exit_code == 0, out.output
    assert "Quality gates" in out.output and "kept" in out.output and "synthetic set:" in out.output
    assert chat_server.requests[0]["model"] == "served-model"
    info = json.loads((tmp_path / "set/ragkit.json").read_text())
    assert info["config"]["seed"] == 2 and info["config"]["llm"]["name"] == "openai"
    assert len((tmp_path / "set/questions.jsonl").read_text().splitlines()) == 3


def test_synth_errors_are_reported_not_raised(corpus_jsonl, tmp_path):
    runner = CliRunner()
    assert runner.invoke(app, ["synth", "--help"]).exit_code == 0
    res = runner.invoke(app, ["synth"])
    assert res.exit_code == 2 and "--corpus" in res.output
    res = runner.invoke(app, ["synth", "--corpus", str(corpus_jsonl), "--format", "jsonl", "--backend", "openia"])
    assert res.exit_code == 2 and "Did you mean 'openai'" in res.output


def test_experiment_generates_then_reuses_the_synthetic_set(corpus_jsonl, chat_server, tmp_path, monkeypatch):
    from ragkit.experiment.inputs import load_inputs
    from ragkit.experiment.runner import run
    from ragkit.experiment.spec import load_spec

    monkeypatch.setenv("RAGKIT_CACHE_DIR", str(tmp_path / "cache"))  # the runner points it at cache_dir: restore it after
    chat_server.reply_fn = scripted_question
    cfg = {
        "name": "syn", "corpus": {"path": str(corpus_jsonl), "format": "jsonl"},
        "questions": {"synthetic": {"n": 3, "min_passage_chars": 100, "gates": {"max_leakage": None},
                                    "llm": {"name": "openai", "base_url": chat_server.url, "model": "m"}}},
        "retrievers": [{"name": "bm25"}], "metrics": ["ndcg"], "k": [3], "primary": "doc:ndcg@3", "bootstrap": 20,
        "output_dir": str(tmp_path / "runs"), "cache_dir": str(tmp_path / "cache"), "report": False,
    }
    res = run(cfg)
    assert sorted(res.per_query["query_id"].unique()) == ["synth-00001", "synth-00002", "synth-00003"]
    asked = len(chat_server.requests)
    inputs = load_inputs(load_spec(cfg))
    assert len(chat_server.requests) == asked  # cached by corpus + config
    assert inputs.synthetic_set is not None and inputs.synthetic_set.parent == tmp_path / "cache" / "synth"
    with pytest.raises(ConfigError, match="questions.synthetic"):
        load_inputs(load_spec({**cfg, "questions": {"source": "synthetic"}}))
