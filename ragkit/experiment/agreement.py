"""Gold vs synthetic agreement: run one grid on both question sets and compare the rankings of configurations.

If a synthetic set ranks configurations the way the gold set does (Kendall tau / Spearman
rho near 1), it can stand in for gold questions on this corpus: to choose a chunker or a
retriever, to catch regressions. Writes ``<output_dir>/<name>-agreement-<timestamp>/``
with ``agreement.json`` and the two run folders inside it.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ragkit.errors import ConfigError
from ragkit.experiment.spec import ExperimentSpec, load_spec

log = logging.getLogger(__name__)


def _finite(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def rank_agreement(gold: np.ndarray, synthetic: np.ndarray) -> dict[str, float | None]:
    """Kendall tau-b and Spearman rho between two score vectors over the same configurations (ties handled).

    None where undefined (fewer than 2 configurations, or one side constant).

    >>> rank_agreement(np.array([0.1, 0.2, 0.3, 0.4]), np.array([0.2, 0.1, 0.3, 0.4]))["kendall_tau"]
    0.6667
    """
    from scipy.stats import kendalltau, spearmanr

    if len(gold) < 2 or np.ptp(gold) == 0 or np.ptp(synthetic) == 0:
        return {"kendall_tau": None, "kendall_p": None, "spearman_rho": None, "spearman_p": None}
    tau = kendalltau(gold, synthetic, variant="b")
    rho = spearmanr(gold, synthetic)
    r = lambda x: None if _finite(x) is None else round(float(x), 4)  # noqa: E731
    return {"kendall_tau": r(tau.statistic), "kendall_p": r(tau.pvalue), "spearman_rho": r(rho.statistic), "spearman_p": r(rho.pvalue)}


def tau_bootstrap(gold_pq, synth_pq, metric: str, configs: list[str], n_resamples: int = 1000, seed: int = 0) -> list[float] | None:
    """95% CI of Kendall tau-b when both question sets are resampled (queries drawn with replacement,
    the same draw for every configuration, as in a paired bootstrap)."""
    from scipy.stats import kendalltau

    if metric not in gold_pq.columns or metric not in synth_pq.columns or n_resamples == 0:
        return None
    g = gold_pq.pivot_table(index="query_id", columns="config", values=metric)[configs].to_numpy()  # (Qg, C)
    s = synth_pq.pivot_table(index="query_id", columns="config", values=metric)[configs].to_numpy()  # (Qs, C)
    rng = np.random.default_rng(seed)
    taus = []
    for _ in range(n_resamples):
        gm = np.nanmean(g[rng.integers(0, len(g), len(g))], axis=0)
        sm = np.nanmean(s[rng.integers(0, len(s), len(s))], axis=0)
        if np.ptp(gm) > 0 and np.ptp(sm) > 0:
            taus.append(kendalltau(gm, sm, variant="b").statistic)
    if not taus:
        return None
    lo, hi = np.quantile(taus, [0.025, 0.975])
    return [round(float(lo), 4), round(float(hi), 4)]


@dataclass
class AgreementResult:
    """``agreement.json`` as a dict, and where it was written."""

    path: Path
    data: dict[str, Any]


def _sides(spec: ExperimentSpec) -> tuple[ExperimentSpec, ExperimentSpec]:
    q = spec.questions
    if q.synthetic is None:
        raise ConfigError("agreement needs a synthetic question set: add questions.synthetic (a generator config, or {path: SET_FOLDER})")
    if spec.corpus.format != "beir" and not (q.path and q.qrels):
        raise ConfigError("agreement needs gold questions with labels: set questions.path and questions.qrels (or use a BEIR corpus)")
    gold = spec.model_copy(update={"name": f"{spec.name}-gold", "questions": q.model_copy(update={"source": "gold"})})
    synth = spec.model_copy(update={"name": f"{spec.name}-synthetic", "questions": q.model_copy(update={"source": "synthetic"})})
    return gold, synth


def _means(results, metric: str) -> dict[str, float]:
    r = results[(results["level"] + ":" + results["metric"]) == metric]
    return dict(zip(r["config"], r["mean"].astype(float)))


def _per_metric(gold_res, synth_res, levels: list[str]) -> dict[str, Any]:
    """Rank agreement and scatter points for every relevance metric (cost and monitoring columns left out)."""
    out = {}
    names = sorted(set(gold_res["level"] + ":" + gold_res["metric"]) & set(synth_res["level"] + ":" + synth_res["metric"]))
    names = [m for m in names if m.split(":", 1)[0] in levels]
    for metric in names:
        g, s = _means(gold_res, metric), _means(synth_res, metric)
        configs = [c for c in g if c in s]
        stats = rank_agreement(np.array([g[c] for c in configs]), np.array([s[c] for c in configs]))
        points = [{"config": c, "gold": round(g[c], 6), "synthetic": round(s[c], 6)} for c in configs]
        out[metric] = {"kendall_tau": stats["kendall_tau"], "spearman_rho": stats["spearman_rho"], "points": points}
    return out


def _leakage(spec: ExperimentSpec) -> tuple[dict[str, float], Path | None]:
    """Leakage of the questions against their labelled text, and the synthetic set folder (if any)."""
    from ragkit.experiment.inputs import load_inputs
    from ragkit.synth.leakage import distribution, qrels_leakage

    inputs = load_inputs(spec)  # cheap: the synthetic set is cached by then
    d = distribution(qrels_leakage(inputs.queries, inputs.qrels, inputs.docs))
    return {k: d[k] for k in ("mean", "median", "p90", "n") if k in d}, inputs.synthetic_set


def agreement(
    config: ExperimentSpec | dict[str, Any] | str | os.PathLike,
    *,
    overrides: tuple[str, ...] | list[str] = (),
    output_dir: str | None = None,
    use_cache: bool = True,
) -> AgreementResult:
    """Run the grid on the gold and on the synthetic questions; write and return ``agreement.json``."""
    from ragkit.experiment.runner import run
    from ragkit.experiment.store import new_run_dir, write_json, write_parquet, write_yaml

    spec = config if isinstance(config, ExperimentSpec) else load_spec(config, overrides)
    gold_spec, synth_spec = _sides(spec)
    root = new_run_dir((Path(output_dir) if output_dir else spec.resolve(spec.output_dir)).resolve(), f"{spec.name}-agreement")
    write_yaml(spec.model_dump(mode="json"), root / "config.yaml")
    log.info("agreement: synthetic run")  # first: generating the set is what fails (an LLM endpoint), and early
    synth = run(synth_spec, output_dir=str(root), use_cache=use_cache)
    log.info("agreement: gold run")
    gold = run(gold_spec, output_dir=str(root), use_cache=use_cache)
    per_metric = _per_metric(gold.results, synth.results, list(spec.levels))
    primary = spec.primary
    if primary not in per_metric:
        raise ConfigError(f"primary metric '{primary}' missing from the runs' results")
    points = per_metric[primary]["points"]
    stats = rank_agreement(np.array([p["gold"] for p in points]), np.array([p["synthetic"] for p in points]))
    (gold_leak, _), (synth_leak, synth_set) = _leakage(gold_spec), _leakage(synth_spec)
    data = {
        "primary": primary, **stats, "n_configs": len(points),
        "kendall_tau_ci": tau_bootstrap(gold.per_query, synth.per_query, primary, [p["config"] for p in points], seed=spec.seed),
        "configs": points, "per_metric": per_metric,
        "leakage": {"gold": gold_leak, "synthetic": synth_leak},
        "n_questions": {"gold": int(gold.per_query["query_id"].nunique()), "synthetic": int(synth.per_query["query_id"].nunique())},
        "gold_run": str(gold.run_dir), "synthetic_run": str(synth.run_dir),
        "synthetic_set": str(synth_set),
    }
    write_json(data, root / "agreement.json")
    import pandas as pd

    scatter = pd.DataFrame([{"metric": m, **p} for m, v in per_metric.items() for p in v["points"]])
    write_parquet(scatter, root / "agreement.parquet")
    return AgreementResult(root, data)
