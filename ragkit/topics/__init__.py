"""Topics of questions: clustering (BERTopic), weak-topic ranking, content vs capability gaps, a real-time classifier.

Importing this package is light; BERTopic, UMAP and scikit-learn load on first use.

Example:
    >>> from ragkit.topics import analyse_topics, QuestionClassifier  # doctest: +SKIP
    >>> analysis = analyse_topics(queries, embedder=get_embedder(), docs=docs, chunks=chunks)  # doctest: +SKIP
    >>> analysis.topics[["label", "n", "priority", "gap"]]  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

from ragkit.topics.config import TopicsConfig

__all__ = [
    "TopicsConfig",
    "TopicAnalysis",
    "analyse_topics",
    "write_topics",
    "fit_topics",
    "topic_table",
    "priority_scores",
    "QuestionClassifier",
    "weakest_topic_questions",
]

_LAZY = {
    "TopicAnalysis": "ragkit.topics.analysis",
    "analyse_topics": "ragkit.topics.analysis",
    "write_topics": "ragkit.topics.analysis",
    "fit_topics": "ragkit.topics.model",
    "topic_table": "ragkit.topics.table",
    "priority_scores": "ragkit.topics.table",
    "QuestionClassifier": "ragkit.topics.classifier",
    "weakest_topic_questions": "ragkit.topics.target",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ragkit.topics' has no attribute {name!r}")
