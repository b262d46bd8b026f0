"""``execution: {engine: ray}`` on a real local Ray cluster (head + 2 workers) gives the local engine's answers."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import ragkit
from ragkit.errors import ConfigError, MissingDependencyError


@pytest.fixture()
def isolated_cache(monkeypatch):
    # the runner points RAGKIT_CACHE_DIR at the experiment's cache_dir; restore it afterwards
    monkeypatch.setenv("RAGKIT_CACHE_DIR", os.environ["RAGKIT_CACHE_DIR"])


def _vectors(cache) -> dict[str, np.ndarray]:
    """The dense table in an experiment's cache folder, as chunk id -> vector."""
    from ragkit.retrieval.lance_store import ChunkTable, import_lancedb

    uri = str(cache / "lancedb")
    (name,) = [n for n in import_lancedb().connect(uri).table_names() if n.startswith("chunks_")]
    vecs, ids, _, _ = ChunkTable(name, dim=384, uri=uri).load_vectors()
    return dict(zip(ids, vecs))


def test_ray_engine_gives_the_local_answers(ray_cluster, acme_config, tmp_path, isolated_cache, embedder):
    local = ragkit.run(acme_config(tmp_path, "local"))
    calls = embedder.model_calls
    ray_cfg = acme_config(tmp_path, "ray", execution={"engine": "ray", "num_workers": 2, "batch_size": 64})
    remote = ragkit.run(ray_cfg)
    assert embedder.model_calls == calls, "the driver embedded something: the Ray workers should have"
    assert ray_cluster.is_initialized()  # the engine reused the connection and left it open
    log = (remote.run_dir / "run.log").read_text()
    assert "embedding with 2 Ray actor(s)" in log and "running 3 cell(s) as 3 Ray task(s)" in log

    # embeddings: written to LanceDB by the Ray actor pool, equal to the local ones
    mine, theirs = _vectors(tmp_path / "cache-local"), _vectors(tmp_path / "cache-ray")
    assert mine.keys() == theirs.keys() and len(mine) > 100
    ids = sorted(mine)
    np.testing.assert_allclose(np.stack([theirs[i] for i in ids]), np.stack([mine[i] for i in ids]), atol=2e-5)

    # rankings: identical top-k chunk ids, in order, for every configuration and query
    key = ["config", "query_id", "rank"]
    a, b = local.rankings.sort_values(key).reset_index(drop=True), remote.rankings.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a[key + ["chunk_id", "doc_id"]], b[key + ["chunk_id", "doc_id"]])
    np.testing.assert_allclose(a["score"], b["score"], atol=1e-4)

    # metrics: IR metrics equal; label-free cosines equal to float tolerance
    res = [r.results.set_index(["config", "level", "metric"]).sort_index() for r in (local, remote)]
    ir = [r[r.index.get_level_values("level").isin(["doc", "chunk"])] for r in res]
    pd.testing.assert_frame_equal(ir[0], ir[1])
    mon = [r.xs("monitor", level="level")["mean"] for r in res]
    np.testing.assert_allclose(mon[0], mon[1], atol=1e-5)
    assert set(local.per_query.config) == set(remote.per_query.config) == {"chars | bm25", "chars | dense", "chars | hybrid"}


@pytest.mark.slow
def test_ray_engine_reuses_cached_cells(ray_cluster, acme_config, tmp_path, isolated_cache):
    cfg = acme_config(tmp_path, "again", retrievers=[{"name": "bm25"}],
                      execution={"engine": "ray", "num_workers": 1})
    first = ragkit.run(cfg)
    second = ragkit.run(cfg)
    assert "cell chars | bm25: cached" in (second.run_dir / "run.log").read_text()
    pd.testing.assert_frame_equal(first.rankings, second.rankings)


def test_local_engine_imports_nothing_of_ray(acme_config, tmp_path):
    import yaml

    cfg = acme_config(tmp_path, "plain", retrievers=[{"name": "bm25"}])
    cfg["corpus"]["limit"] = 3
    cfg["questions"]["limit"] = 5
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(cfg))
    code = textwrap.dedent(f"""
        import sys, ragkit
        ragkit.run({str(path)!r})
        leaked = sorted(m for m in sys.modules if m == "ray" or m.startswith(("ray.", "ragkit.experiment.engine", "ragkit.core.ray_embed")))
        assert not leaked, leaked
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_execution_config_is_checked():
    from ragkit.experiment.spec import load_spec

    base = {"corpus": {"path": "."}, "questions": {"path": "q.jsonl", "qrels": "r.jsonl"}}
    assert load_spec(base).execution.engine == "local"
    with pytest.raises(ConfigError, match="execution.engine"):
        load_spec({**base, "execution": {"engine": "spark"}})
    with pytest.raises(ConfigError, match="execution.num_gpus_per_worker"):
        load_spec({**base, "execution": {"engine": "ray", "num_gpus_per_worker": -1}})


def test_missing_ray_names_the_extra(monkeypatch):
    from ragkit.core.ray_embed import import_ray

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(MissingDependencyError, match=r"ragkit\[ray\]"):
        import_ray()


def test_worker_resources_fit_the_cluster(ray_cluster):
    from ragkit.core.ray_embed import worker_resources

    # 3 one-CPU nodes, no GPU: one CPU stays free for Ray Data's read tasks
    assert worker_resources(None, 1.0, None) == (2, 1.0, 0.0)
    assert worker_resources(None, 0.5, None) == (4, 0.5, 0.0)
    assert worker_resources(5, 2.0, 0.0) == (5, 2.0, 0.0)  # explicit values are kept
