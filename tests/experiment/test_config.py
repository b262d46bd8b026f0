from __future__ import annotations

import pytest

from ragkit.errors import ConfigError
from ragkit.experiment.grid import Grid, expand_components
from ragkit.experiment.spec import apply_override, load_spec
from ragkit.experiment.validate import validate_experiment
from ragkit.registry import CHUNKERS, RETRIEVERS


def base(tmp_path, **kw):
    (tmp_path / "docs").mkdir(exist_ok=True)
    (tmp_path / "docs" / "a.md").write_text("hello")
    (tmp_path / "q.jsonl").write_text('{"id": "q1", "text": "hello"}\n')
    (tmp_path / "qrels.jsonl").write_text('{"query_id": "q1", "doc_id": "a.md"}\n')
    cfg = {
        "name": "t",
        "corpus": {"path": str(tmp_path / "docs")},
        "questions": {"path": str(tmp_path / "q.jsonl"), "qrels": str(tmp_path / "qrels.jsonl")},
        "chunkers": [{"name": "chars", "size": 100, "overlap": 10}],
        "retrievers": [{"name": "bm25"}],
    }
    cfg.update(kw)
    return cfg


def test_unknown_component_suggests_name(tmp_path):
    with pytest.raises(ConfigError, match="unknown retriever 'bm52'; registered: .*bm25.* Did you mean 'bm25'"):
        RETRIEVERS.get("bm52")


def test_all_problems_reported_together(tmp_path):
    cfg = base(
        tmp_path,
        chunkers=[{"name": "chars", "size": "big"}, {"name": "charz"}],
        retrievers=[{"name": "bm25", "k1": "x", "nope": 1}, {"name": "hybrid", "retrievers": [{"name": "bm52"}, {"name": "dense", "params": {"block_size": 0}}]}],
        metrics=["ndgc"],
        primary="doc:ndcg@10",
        device="tpu",
    )
    cfg["corpus"]["path"] = str(tmp_path / "missing")
    with pytest.raises(ConfigError) as err:
        validate_experiment(load_spec(cfg))
    msg = str(err.value)
    for part in ["chunkers[0] (chars).size", "'big'", "unknown chunker 'charz'", "Did you mean 'chars'",
                 "retrievers[0] (bm25).k1", "retrievers[0] (bm25).nope", "retrievers[1].retrievers[0]: unknown retriever 'bm52'",
                 "retrievers[1].retrievers[1] (dense).block_size", "corpus.path", "metrics:", "ndgc", "device:"]:
        assert part in msg, part


def test_top_level_type_errors_name_the_field(tmp_path):
    with pytest.raises(ConfigError, match=r"k\.1: Input should be a valid integer"):
        load_spec(base(tmp_path, k=[1, "ten"]))
    with pytest.raises(ConfigError, match="extra_key: Extra inputs are not permitted"):
        load_spec(base(tmp_path, extra_key=1))
    with pytest.raises(ConfigError, match="does not exist"):
        load_spec(str(tmp_path / "nope.yaml"))


def test_yaml_is_loaded_safely(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text("name: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_spec(p)


def test_grid_expansion_and_labels():
    chunkers = expand_components([{"name": "chars", "size": [400, 800], "overlap": 40}, {"name": "markdown"}], CHUNKERS)
    retrievers = expand_components(
        [{"name": "bm25"}, {"name": "hybrid", "fusion": "weighted", "alpha": [0.3, 0.7], "weights": [1.0, 2.0]}], RETRIEVERS
    )
    assert [c.label for c in chunkers] == ["chars(size=400)", "chars(size=800)", "markdown"]
    assert [r.label for r in retrievers] == ["bm25", "hybrid(alpha=0.3)", "hybrid(alpha=0.7)"]
    assert retrievers[1].params["weights"] == [1.0, 2.0]  # a list-typed field does not expand
    cells = Grid(chunkers, retrievers).cells()
    assert len(cells) == 9 and len({c.key() for c in cells}) == 9


def test_overrides():
    cfg = {"retrievers": [{"name": "bm25"}, {"name": "dense"}, {"name": "bm25", "k1": 2}], "k": [10]}
    apply_override(cfg, "retrievers.bm25.k1=1.2")
    apply_override(cfg, "retrievers.1.model=other")
    apply_override(cfg, "k=[1, 5]")
    apply_override(cfg, "corpus.path=/x")
    assert [r.get("k1") for r in cfg["retrievers"]] == [1.2, None, 1.2]
    assert cfg["retrievers"][1]["model"] == "other" and cfg["k"] == [1, 5] and cfg["corpus"] == {"path": "/x"}
    with pytest.raises(ConfigError, match="nothing matches 'retrievers.colbert'"):
        apply_override(cfg, "retrievers.colbert.k=1")
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        apply_override(cfg, "k")
    saved = {"questions": {"path": "q.jsonl", "synthetic": None}}  # a run's config.yaml writes unset sections as null
    apply_override(saved, "questions.synthetic.n=20")
    assert saved["questions"] == {"path": "q.jsonl", "synthetic": {"n": 20}}
    with pytest.raises(ConfigError, match="'k' is not a mapping"):
        apply_override(cfg, "k.x=1")


def test_shipped_configs_validate(acme_dir):
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    grid = validate_experiment(load_spec(root / "experiments" / "quickstart.yaml"))
    assert len(grid.cells()) == 24 and grid.rerankers[0] is None
    spec = load_spec(root / "experiments" / "beir_scifact.yaml", ["corpus.path=" + str(acme_dir)])
    assert spec.corpus.format == "beir"
