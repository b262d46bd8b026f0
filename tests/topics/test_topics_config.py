"""The ``topics:`` config section, unlabelled questions in an experiment, and what validation says about them."""

from __future__ import annotations

import pytest

from ragkit.errors import ConfigError
from ragkit.experiment.spec import load_spec
from ragkit.experiment.validate import validate_experiment
from ragkit.topics.config import TopicsConfig


def _cfg(acme_dir, **extra) -> dict:
    return {"corpus": {"path": str(acme_dir / "docs")}, "questions": {"path": str(acme_dir / "query_log.jsonl")},
            "retrievers": [{"name": "bm25"}], **extra}


def test_defaults_and_switch(acme_dir):
    spec = load_spec(_cfg(acme_dir))
    assert spec.topics == TopicsConfig() and spec.topics.enabled and spec.topics.config == "best"
    assert load_spec(_cfg(acme_dir, topics=False)).topics.enabled is False
    assert TopicsConfig().resolved_min_topic_size(20) == 3 and TopicsConfig().resolved_min_topic_size(1000) == 10
    with pytest.raises(ConfigError, match="topics.min_topic_siz"):
        load_spec(_cfg(acme_dir, topics={"min_topic_siz": 3}))


def test_unlabelled_questions_validate_and_qrels_alone_do_not(acme_dir):
    assert len(validate_experiment(load_spec(_cfg(acme_dir))).cells()) == 1
    bad = _cfg(acme_dir)
    bad["questions"] = {"qrels": str(acme_dir / "qrels.jsonl")}
    with pytest.raises(ConfigError, match="'qrels' needs 'path'"):
        validate_experiment(load_spec(bad))


def test_topics_config_must_name_a_configuration(acme_dir):
    with pytest.raises(ConfigError, match="topics.config: 'chars | bm52'.*Did you mean 'chars | bm25'"):
        validate_experiment(load_spec(_cfg(acme_dir, topics={"config": "chars | bm52"})))
    assert validate_experiment(load_spec(_cfg(acme_dir, topics={"config": "chars | bm25"})))


def test_report_baseline_must_name_a_configuration(acme_dir):
    with pytest.raises(ConfigError, match="report.baseline: 'chars | bm52'.*Did you mean 'chars | bm25'"):
        validate_experiment(load_spec(_cfg(acme_dir, report={"baseline": "chars | bm52"})))
    with pytest.raises(ConfigError, match="report.baseline: 'best'"):
        validate_experiment(load_spec(_cfg(acme_dir, report={"baseline": "best"})))
    assert validate_experiment(load_spec(_cfg(acme_dir, report={"baseline": "chars | bm25"})))
