"""The ``topics:`` section of an experiment: which configuration to analyse and how to cluster.

Kept free of heavy imports (pydantic only) so that the experiment spec can embed it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

SIGNALS = ("top1_cosine", "rerank_top1", "feedback", "doc:hit_rate@10", "doc:ndcg@10")


class TopicsConfig(BaseModel):
    """Topic analysis settings (every field has a default; ``topics: {}`` is valid).

    Example:
        >>> TopicsConfig(min_topic_size=5).resolved_min_topic_size(1000)
        5
        >>> TopicsConfig().resolved_min_topic_size(85)
        3
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="write topics.parquet / question_topics.parquet at the end of a run")
    config: str = Field(
        "best", description="configuration whose values are analysed: 'best' (the leaderboard's first) or a name"
    )
    min_questions: int = Field(20, ge=0, description="fewer questions: a run writes no topic files")
    min_topic_size: int | None = Field(None, ge=1, description="smallest topic; default clip(n // 25, 3, 10)")
    hdbscan_min_questions: int = Field(
        100, ge=2,
        description="groups with fewer questions are clustered with agglomerative + silhouette, not UMAP + HDBSCAN",
    )
    seed: int | None = Field(None, description="seed of UMAP / k-means / the 2-D map; default: the experiment seed")
    n_keywords: int = Field(10, ge=1, le=50)
    split_gaps: bool = Field(
        True, description="cluster metadata requests and questions the corpus does not cover apart from the rest"
    )
    coverage: bool = Field(True, description="compute each question's best cosine against every chunk of the corpus")
    signals: list[str] = Field(list(SIGNALS), description="per-question values that make up the priority score")

    def resolved_min_topic_size(self, n: int) -> int:
        """``min_topic_size``, or ``clip(n // 25, 3, 10)`` when unset."""
        if self.min_topic_size is not None:
            return self.min_topic_size
        return int(min(10, max(3, n // 25)))
