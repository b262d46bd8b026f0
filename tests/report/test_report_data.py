"""ReportData is built from the run folder's files alone; each section follows its files."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from hostile_data import ANSWER, SMALL, WHOLE

from ragkit.errors import ConfigError
from ragkit.metrics.paired import compare_to_baseline
from ragkit.report.model import ReportData, build_report_data


def test_the_run_snapshots_its_inputs(hostile_run):
    questions = pd.read_parquet(hostile_run / "questions.parquet")
    assert list(questions.columns) == ["query_id", "text", "source", "metadata"]
    assert questions.set_index("query_id").loc["q2", "source"] == "synthetic"  # from the question's metadata
    assert questions.set_index("query_id").loc["q1", "source"] == "gold"  # the default
    qrels = pd.read_parquet(hostile_run / "qrels.parquet").set_index("query_id")
    assert pd.isna(qrels.loc["q2", "start"]) and qrels.loc["q3", "end"] == 58
    chunks = pd.read_parquet(hostile_run / "chunks.parquet")
    rankings = pd.read_parquet(hostile_run / "rankings.parquet")
    assert set(zip(chunks["config"], chunks["chunk_id"])) == set(zip(rankings["config"], rankings["chunk_id"]))
    info = json.loads((hostile_run / "run_info.json").read_text())
    assert info["corpus"]["n_docs"] == 3 and info["questions"] == {"n": 4, "n_labelled": 4, "n_judgments": 4,
                                                                  "n_span_judgments": 2}
    assert [c["chunker"]["params"] for c in info["cells"]] == [{"size": 100000, "overlap": 0}, {"size": 160, "overlap": 0}]


def test_chunk_texts_are_the_document_spans(hostile_run):
    from ragkit.data.jsonl import load_documents_jsonl

    docs = {d.id: d.text for d in load_documents_jsonl(hostile_run.parent.parent / "docs.jsonl", title_in_text=True)}
    chunks = build_report_data(hostile_run).drilldown["chunks"]
    assert len(chunks["doc"]) == len(set(zip(chunks["doc"], chunks["start"], chunks["end"])))  # deduplicated
    for doc, start, end, text in zip(chunks["doc"], chunks["start"], chunks["end"], chunks["text"]):
        assert text == docs[doc][start:end]
    whole = max((t for d, t in zip(chunks["doc"], chunks["text"]) if d == "d1"), key=len)
    assert ANSWER in whole  # the whole-document chunk holds the labelled span


def test_sections_of_a_run(hostile_run):
    data = build_report_data(hostile_run)
    configs = [f"{WHOLE['label']} | bm25 </script>", f"{SMALL['label']} | bm25 </script>"]
    assert data.summary["n_configs"] == 2 and data.summary["questions"]["sources"] == {"gold": 3, "synthetic": 1}
    assert {v["key"] for v in data.summary["varying"]} == {"chunker", "chunker.size"}
    assert sorted(r["config"] for r in data.leaderboard["rows"]) == sorted(configs)
    assert data.leaderboard["baseline"] == configs[0]  # the first configuration of the grid
    assert [f["key"] for f in data.curves["families"]][:2] == ["doc:ndcg", "doc:recall"]
    assert {p["chunker"] for p in data.sweep["points"]} == {WHOLE["label"], SMALL["label"]}
    assert data.monitoring["signals"][0]["key"] == "top1_cosine"
    assert data.topics is data.agreement is data.finetune is data.drift is None  # their files are absent
    dd = data.drilldown
    assert dd["configs"] == configs and dd["queries"]["id"] == ["q1", "q2", "q3", "q4"]
    assert dd["badge"] == "doc:hit_rate@10" and dd["qrels"][1] == [["d2\"><img src=x onerror=alert(1)>", 1, None, None]]
    assert dd["values"][configs[0]]["doc:hit_rate@10"] == [1.0, 1.0, 1.0, 0.0]  # q4 matches no document


def test_significance_is_the_paired_test_with_holm(hostile_run):
    board = build_report_data(hostile_run).leaderboard
    per_query = pd.read_parquet(hostile_run / "per_query.parquet")
    expected = compare_to_baseline(per_query, "doc:ndcg@10", board["baseline"], n_resamples=10000, seed=0).iloc[0]
    row = next(r for r in board["rows"] if not r["is_baseline"])
    assert row["test"]["p_holm"] == pytest.approx(expected["p_holm"], abs=1e-6)
    assert row["test"]["delta"] == pytest.approx(expected["delta"], abs=1e-4)
    assert row["test"]["mark"] == ""  # 4 questions cannot make a difference significant


def test_baseline_choice(hostile_run):
    configs = build_report_data(hostile_run).drilldown["configs"]
    data = build_report_data(hostile_run, baseline=configs[1])
    assert data.leaderboard["baseline"] == configs[1] and "report.baseline" in data.leaderboard["baseline_why"]
    data = build_report_data(hostile_run, baseline="nope | bm25")
    assert data.leaderboard["baseline"] == configs[0]
    assert any("'nope | bm25' is not a configuration" in n for n in data.notes)


def test_study_sections_follow_the_contract(full_run):
    data = build_report_data(full_run)
    assert [r["priority_rank"] for r in data.topics["rows"]] == [1, 2]
    assert [s["key"] for s in data.topics["signals"]] == ["top1_cosine", "doc:ndcg@10"]
    assert data.topics["rows"][0]["signals"][0] == [0.41, 0.3, 0.52]
    assert [len(g["x"]) for g in data.topics["map"]["groups"]] == [3, 1]
    assert data.agreement["kendall_tau"] == 0.87 and len(data.agreement["points"]) == 2
    assert data.finetune["warning"].startswith("the fine-tuned model is worse")
    assert data.finetune["metrics"][0]["delta_ci"] == [-0.045, -0.005]


def test_sections_are_omitted_with_their_files(hostile_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(hostile_run, run)
    for name in ("questions.parquet", "qrels.parquet", "chunks.parquet", "run_info.json", "signal.parquet"):
        (run / name).unlink()
    data = build_report_data(run)  # a run written before those files existed
    dd = data.drilldown
    assert dd["qrels"] is None and set(dd["chunks"]["text"]) == {None} and dd["queries"]["text"][0] == ""
    assert data.sweep["numeric"] is False and data.monitoring["trust"] is None
    (run / "rankings.parquet").unlink()
    (run / "per_query.parquet").unlink()
    data = build_report_data(run)
    assert data.drilldown is None and data.monitoring is None and data.leaderboard is not None


def test_an_agreement_folder_alone(full_run, hostile_run, tmp_path):
    folder = tmp_path / "agreement"
    folder.mkdir()
    shutil.copy(full_run / "agreement.json", folder)
    data = build_report_data(folder)
    assert data.agreement is not None and data.leaderboard is None and data.summary is None
    joined = build_report_data(hostile_run, include=[folder])  # a run plus the agreement study's folder
    assert joined.agreement == data.agreement and joined.leaderboard is not None


def test_reference_run_adds_drift(hostile_run):
    drift = build_report_data(hostile_run, reference=hostile_run).drift
    assert drift["rows"] and all(r["ks"] == 0.0 and r["psi"] == 0.0 for r in drift["rows"])


def test_bad_folders(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        build_report_data(tmp_path / "missing")
    with pytest.raises(ConfigError, match="none of the files"):
        build_report_data(tmp_path)


def test_report_data_round_trips_through_json(hostile_run):
    data = build_report_data(hostile_run)
    assert ReportData.from_dict(json.loads(json.dumps(data.to_dict()))) == data
    saved = json.loads((hostile_run / "report_data.json").read_text())
    assert saved["title"] == data.title and saved["schema_version"] == 1


@pytest.mark.parametrize("name", ["labels", "model", "render"])
def test_docstring_examples(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"ragkit.report.{name}"))
    assert result.attempted > 0 and result.failed == 0


def test_report_needs_neither_torch_nor_the_runner(hostile_run, tmp_path):
    import subprocess
    import sys

    code = ("import sys; from ragkit.report import write_report; write_report(sys.argv[1], sys.argv[2]); "
            "heavy = [m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'sentence_transformers', "
            "'lancedb') or m == 'ragkit.experiment.runner']; assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code, str(hostile_run), str(tmp_path / "r.html")], check=True)
