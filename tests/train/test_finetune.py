"""``ragkit finetune`` end to end on a tiny BEIR folder: finetune.json contract, reuse, guard, CLI."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from ragkit.errors import ConfigError
from ragkit.train.evaluate import compare_before_after, regression_warning
from ragkit.train.finetune import finetune
from ragkit.train.spec import load_finetune_spec

DOCS = {
    "solar": "Solar panels make electricity from sunlight with photovoltaic cells.",
    "wind": "Wind turbines make electricity from moving air.",
    "bees": "Bees make honey from the nectar of flowers.",
    "wasps": "Wasps build nests from chewed wood fibre.",
    "sky": "The sky looks blue because air scatters blue light more than red light.",
    "sunset": "Sunsets look red because light crosses more air at a low angle.",
    "ice": "Salt lowers the freezing point of water, so it melts ice on roads.",
    "glacier": "Glaciers are rivers of ice that move slowly down valleys.",
    "hamlet": "Hamlet is a tragedy written by William Shakespeare around 1600.",
    "macbeth": "Macbeth is a Shakespeare play set in medieval Scotland.",
    "cows": "Cows are grazing animals that eat grass and hay.",
    "rust": "Rust is iron oxide, formed when iron reacts with oxygen and water.",
}
TRAIN = {"t1": ("how do solar panels make electricity", "solar"), "t2": ("how is honey made", "bees"),
         "t3": ("why is the sky blue", "sky"), "t4": ("what melts ice on roads", "ice"),
         "t5": ("who wrote hamlet", "hamlet"), "t6": ("what do cows eat", "cows"),
         "t7": ("what is rust made of", "rust"), "t8": ("what turns wind into power", "wind"),
         "dup": ("Why are sunsets red?", "sunset")}  # also a test question: must not be trained on
TEST = {"s1": ("why are sunsets red", "sunset"), "s2": ("what are glaciers", "glacier"),
        "s3": ("what do wasps build nests from", "wasps"), "s4": ("where is macbeth set", "macbeth")}


@pytest.fixture(scope="module")
def beir(tmp_path_factory):
    root = tmp_path_factory.mktemp("beir")
    (root / "qrels").mkdir()
    (root / "corpus.jsonl").write_text("".join(json.dumps({"_id": k, "title": "", "text": v}) + "\n" for k, v in DOCS.items()))
    qs = {**TRAIN, **TEST}
    (root / "queries.jsonl").write_text("".join(json.dumps({"_id": k, "text": t}) + "\n" for k, (t, _) in qs.items()))
    for split, part in (("train", TRAIN), ("test", TEST)):
        lines = ["query-id\tcorpus-id\tscore"] + [f"{q}\t{d}\t1" for q, (_, d) in part.items()]
        (root / "qrels" / f"{split}.tsv").write_text("\n".join(lines) + "\n")
    return root


def _config(beir, tmp_path, **over):
    cfg = {
        "name": "tiny", "corpus": {"path": str(beir), "format": "beir"},
        "chunker": {"name": "chars", "size": 100000, "overlap": 0},
        "train": {"split": "train"}, "eval": {"split": "test"},
        "mining": {"retriever": {"name": "dense"}, "depth": 10},
        "embedder": {"max_steps": 2, "batch_size": 4, "max_seq_length": 32, "logging_steps": 1},
        "reranker": {"max_steps": 2, "batch_size": 4, "max_length": 48, "retriever": {"name": "bm25"}, "depth": 5},
        "metrics": ["ndcg@10", "mrr@10"], "bootstrap": 200, "permutations": 500,
        "device": "cpu", "output_dir": str(tmp_path / "runs"),
    }
    cfg.update(over)
    return cfg


CONTRACT_KEYS = {"base_model", "model_dir", "kind", "train_source", "n_train", "loss", "primary", "metrics",
                 "n_queries", "warning", "train_seconds", "settings"}
METRIC_KEYS = {"metric", "before", "before_ci", "after", "after_ci", "delta", "delta_ci", "p_value", "test"}


def test_embedder_finetune_writes_the_contract_and_reuses_the_model(beir, tmp_path):
    res = finetune(_config(beir, tmp_path))
    report = json.loads((res.run_dir / "finetune.json").read_text())
    assert CONTRACT_KEYS <= report.keys()
    assert report["kind"] == "embedder" and report["base_model"] == "default" and report["loss"] == "mnrl"
    assert report["train_source"] == "gold" and report["primary"] == "doc:ndcg@10"
    assert report["n_queries"] == 4 and report["eval_overlap_dropped"] == 1  # the duplicated test question
    assert report["n_train_questions"] == 8 and report["n_train"] == len(pd.read_parquet(res.run_dir / "mined.parquet"))
    assert [m["metric"] for m in report["metrics"]] == ["doc:ndcg@10", "doc:mrr@10"]
    for m in report["metrics"]:
        assert METRIC_KEYS <= m.keys() and m["test"] == "paired permutation"
        assert m["delta"] == pytest.approx(m["after"] - m["before"])
        assert m["before_ci"][0] <= m["before"] <= m["before_ci"][1] and 0 < m["p_value"] <= 1
    assert (report["warning"] is None) == (report["metrics"][0]["delta"] >= 0)
    per_query = pd.read_parquet(res.run_dir / "per_query.parquet")
    assert list(per_query.columns) == ["config", "query_id", "doc:ndcg@10", "doc:mrr@10"]
    assert sorted(per_query["config"].unique()) == ["after", "before"] and len(per_query) == 8
    assert (res.run_dir / "config.yaml").is_file() and json.loads((res.run_dir / "state.json").read_text())["finished"]
    # same config again: the finished model folder is reused, the figures are the same
    again = finetune(_config(beir, tmp_path))
    assert again.report["reused_model"] and again.report["model_dir"] == report["model_dir"]
    assert again.report["metrics"] == report["metrics"]


def test_reranker_finetune_against_the_first_stage(beir, tmp_path):
    res = finetune(_config(beir, tmp_path, kind="reranker", train={"split": "train"}, eval={"holdout": 0.25}))
    r = res.report
    assert r["kind"] == "reranker" and r["loss"] == "bce" and r["n_queries"] == 2
    # the bundled MiniLM has no trained head: "before" is the first stage without reranking
    assert r["baseline"] == "first stage bm25 without reranking"
    assert r["n_train"] == r["mining"]["rows"]


def test_regression_warning_rules():
    def rec(metric, delta, ci, p):
        return {"metric": metric, "before": 0.6, "after": 0.6 + delta, "delta": delta, "delta_ci": ci, "p_value": p}

    better = [rec("doc:ndcg@10", 0.02, [0.01, 0.03], 0.01)]
    assert regression_warning(better, "doc:ndcg@10") is None
    noise = regression_warning([rec("doc:ndcg@10", -0.01, [-0.03, 0.01], 0.4)], "doc:ndcg@10")
    assert noise.startswith("WORSE (not significant)") and "-0.0100" in noise
    assert regression_warning([rec("doc:ndcg@10", -0.03, [-0.05, -0.01], 0.001)], "doc:ndcg@10").startswith("REGRESSION")
    other = regression_warning([*better, rec("doc:recall@100", -0.05, [-0.08, -0.02], 0.001)], "doc:ndcg@10")
    assert other.startswith("REGRESSION: significantly worse") and "doc:recall@100" in other


def test_compare_before_after_pairs_on_query_ids():
    before = pd.DataFrame({"m": [0.0, 1.0, 0.5]}, index=["a", "b", "c"])
    after = pd.DataFrame({"m": [0.5, 1.0, 1.0, 9.0]}, index=["c", "b", "a", "zzz"])  # another order, one extra
    r = compare_before_after(before, after, n_resamples=100, permutations=100)[0]
    assert r["n"] == 3 and r["before"] == pytest.approx(0.5) and r["after"] == pytest.approx(5 / 6)
    assert r["delta"] == pytest.approx(1 / 3)


def test_cli_prints_the_table_and_a_loud_warning():
    from rich.console import Console

    from ragkit.cli.finetune import print_finetune

    m = {"metric": "doc:ndcg@10", "before": 0.645, "before_ci": [0.6, 0.69], "after": 0.62, "after_ci": [0.57, 0.66],
         "delta": -0.025, "delta_ci": [-0.04, -0.01], "p_value": 0.003, "test": "paired permutation"}
    report = {"kind": "embedder", "n_train": 900, "train_source": "gold", "n_queries": 300, "baseline": "dense",
              "primary": "doc:ndcg@10", "metrics": [m], "warning": regression_warning([m], "doc:ndcg@10")}
    console = Console(record=True, width=200)
    print_finetune(report, console)
    text = console.export_text()
    assert "0.6450" in text and "-0.0250" in text and "WARNING" in text and "REGRESSION" in text


def test_config_errors_name_the_field(beir, tmp_path):
    with pytest.raises(ConfigError, match="one source"):
        load_finetune_spec(_config(beir, tmp_path, train={"split": "train", "questions": "q.jsonl", "qrels": "r.jsonl"}))
    with pytest.raises(ConfigError, match="primary"):
        load_finetune_spec(_config(beir, tmp_path, primary="doc:ndcg@5"))
    with pytest.raises(ConfigError, match="corpus.format: beir"):
        load_finetune_spec(_config(beir, tmp_path, corpus={"path": str(beir), "format": "jsonl"}))
    with pytest.raises(ConfigError, match="embedder.lr"):
        load_finetune_spec(_config(beir, tmp_path), ["embedder.lr=0.1"])
    with pytest.raises(ConfigError, match="does not exist"):
        finetune(_config(beir, tmp_path, corpus={"path": str(tmp_path / "nope"), "format": "beir"}))


def test_cli_help_and_bad_config_exit_2(tmp_path):
    from typer.testing import CliRunner

    from ragkit.cli.main import app

    runner = CliRunner()
    res = runner.invoke(app, ["finetune", "--help"])
    assert res.exit_code == 0 and "hard negatives" in res.output
    bad = tmp_path / "ft.yaml"
    bad.write_text("corpus: {path: x, format: beir}\ntrain: {split: train}\nmining: {depht: 3}\n")
    res = runner.invoke(app, ["finetune", str(bad)])
    assert res.exit_code == 2 and "mining.depht" in res.output
