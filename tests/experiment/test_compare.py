from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import typer
import yaml
from rich.console import Console
from typer.testing import CliRunner

from ragkit.cli.compare import compare, compare_command
from ragkit.errors import ConfigError
from ragkit.experiment.compare import compare_configs, compare_runs, load_run

BASE = [0.0, 0.0, 0.0, 0.5, 0.5, 0.5, 0.75, 0.75]
BETTER = [1.0] * 8  # differences 1, 1, 1, .5, .5, .5, .25, .25: sum 5, delta 0.625
P_EXACT = 2 / 2**8  # only the all-+ and all-- sign vectors reach |5|


def _write_run(path, cosines: dict[str, np.ndarray], *, primary: str = "doc:ndcg@10"):
    path.mkdir(parents=True)
    rows = []
    for config, cos in cosines.items():
        ndcg = BETTER if config == "tokens | dense" else BASE
        for i, c in enumerate(cos):
            rows.append({"config": config, "chunker": config.split(" | ")[0], "retriever": config.split(" | ")[1],
                         "query_id": f"q{i}", "doc:ndcg@10": ndcg[i % len(ndcg)], "doc:recall@5": 1.0,
                         "top1_cosine": c, "mean_cosine@10": c - 0.1, "top1_top2_margin": 0.05, "retrieve_ms": 1.0})
    pd.DataFrame(rows).to_parquet(path / "per_query.parquet")
    results = pd.DataFrame([{"config": c, "chunker": "x", "retriever": "y", "level": "doc", "metric": "ndcg@10",
                             "mean": 0.5, "ci_low": 0.4, "ci_high": 0.6, "n": 8} for c in cosines])
    results.to_parquet(path / "results.parquet")
    (path / "config.yaml").write_text(yaml.safe_dump({"name": "t", "primary": primary}))
    return path


@pytest.fixture
def one_run(tmp_path):
    cos = np.linspace(0.3, 0.7, 8)
    return _write_run(tmp_path / "run-a", {"chars | bm25": cos, "tokens | dense": cos, "chars | dense": cos})


def test_load_run_errors_name_the_folder(tmp_path, one_run):
    per_query, results = load_run(one_run)
    assert len(per_query) == 24 and len(results) == 3
    with pytest.raises(ConfigError, match="does not exist"):
        load_run(tmp_path / "nope")
    (one_run / "results.parquet").unlink()
    with pytest.raises(ConfigError, match=r"run-a.*lacks results.parquet"):
        load_run(one_run)


def test_compare_configs_uses_primary_and_suggests(one_run):
    out = compare_configs(one_run, "chars | bm25", n_resamples=2000)
    assert out["config"].tolist() == ["tokens | dense", "chars | dense"]
    assert (out["metric"] == "doc:ndcg@10").all()
    dense = out.iloc[0]
    assert dense["delta"] == 0.625 and dense["n"] == 8
    assert dense["p_permutation"] == P_EXACT and dense["p_holm"] == 2 * P_EXACT
    assert out.iloc[1]["delta"] == 0.0 and out.iloc[1]["p_permutation"] == 1.0
    with pytest.raises(ConfigError, match=r"unknown baseline 'chars\|bm25'.*Did you mean 'chars \| bm25'"):
        compare_configs(one_run, "chars|bm25")
    with pytest.raises(ConfigError, match=r"unknown metric 'doc:ndgc@10'.*Did you mean 'doc:ndcg@10'"):
        compare_configs(one_run, "chars | bm25", "doc:ndgc@10")
    assert compare_configs(one_run, "chars | bm25", "doc:recall@5")["delta"].tolist() == [0.0, 0.0]


def _console() -> Console:
    return Console(width=200, record=True, force_terminal=False)


def test_compare_prints_paired_table(one_run):
    console = _console()
    compare([one_run], "chars | bm25", None, console=console)
    text = console.export_text()
    assert "tokens | dense" in text and "chars | dense" in text and "baseline 'chars | bm25'" in text
    dense = next(ln for ln in text.splitlines() if "tokens | dense" in ln)
    assert "+0.625" in dense and "0.0078" in dense and "0.0156" in dense  # delta, p (2/256), Holm p (x2)
    assert " * " in dense  # Holm p < 0.05
    same = next(ln for ln in text.splitlines() if "chars | dense" in ln)
    assert "+0.000" in same and "1.0000" in same and " * " not in same


def test_compare_prints_drift_table(tmp_path):
    rng = np.random.default_rng(0)
    base = rng.normal(0.5, 0.1, 200)
    configs = ("chars | bm25", "chars | dense")
    run_a = _write_run(tmp_path / "a", dict.fromkeys(configs, base))
    run_same = _write_run(tmp_path / "same", dict.fromkeys(configs, base))
    run_shift = _write_run(tmp_path / "shift", {"chars | bm25": base + 0.15, "tokens | dense": base})
    same = compare_runs(run_a, run_same)
    assert len(same) == 6 and (same["ks"] == 0.0).all() and same["psi"].abs().max() < 1e-12
    shifted = compare_runs(run_a, run_shift)
    assert set(shifted["config"]) == {"chars | bm25"}  # only configs present in both runs
    cos = shifted.set_index("column").loc["top1_cosine"]
    assert cos["psi"] > 0.25 and cos["ks"] > 0.4
    assert shifted.set_index("column").loc["top1_top2_margin", "psi"] == 0.0  # constant column unchanged
    console = _console()
    compare([run_a, run_shift], None, None, console=console)
    text = console.export_text()
    assert "chars | bm25" in text and "top1_cosine" in text and "mean_cosine@10" in text and "PSI" in text
    with pytest.raises(ConfigError, match="share no configuration"):
        compare_runs(run_a, _write_run(tmp_path / "other", {"x | y": base}))


def test_compare_argument_errors(one_run):
    with pytest.raises(ConfigError, match="--baseline"):
        compare([one_run], None, None, console=_console())
    with pytest.raises(ConfigError, match="one or two run folders"):
        compare([one_run] * 3, None, None, console=_console())


def test_compare_command_exit_codes(one_run):
    app = typer.Typer()
    app.command("compare")(compare_command)
    app.command("noop")(lambda: None)  # two commands so typer keeps the subcommand name
    runner = CliRunner()
    ok = runner.invoke(app, ["compare", str(one_run), "--baseline", "chars | bm25", "--metric", "doc:ndcg@10"])
    assert ok.exit_code == 0, ok.output
    assert "tokens | dense" in ok.output and "0.0078" in ok.output
    bad = runner.invoke(app, ["compare", str(one_run), "--baseline", "chars|bm25"])
    assert bad.exit_code == 2 and "error: unknown baseline" in bad.output and "Did you mean" in bad.output
    help_ = runner.invoke(app, ["compare", "--help"])
    assert help_.exit_code == 0 and "--baseline" in help_.output
