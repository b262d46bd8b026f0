"""Close the loop: the questions of a run's weakest topics, as targets for synthetic question generation.

``ragkit synth --topics weakest:3 --run RUN_DIR`` hands these texts to the generator's
``target.near``, so new questions are written from the chunks nearest to the topics
that need work. Content-gap topics are skipped by default: the corpus has nothing
close to them, so the nearest chunks are unrelated; they need new documents instead.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

from ragkit.errors import ConfigError, DataValidationError

log = logging.getLogger(__name__)

__all__ = ["parse_selector", "weakest_topics", "weakest_topic_questions"]

_SELECTOR = re.compile(r"^weakest:(\d+)$")


def parse_selector(selector: str) -> int:
    """``"weakest:3"`` -> 3.

    >>> parse_selector("weakest:3")
    3
    """
    m = _SELECTOR.match(selector.strip())
    if not m or int(m.group(1)) < 1:
        raise ConfigError(f"--topics '{selector}': expected weakest:N with N >= 1, e.g. weakest:3")
    return int(m.group(1))


def weakest_topics(run_dir: str | Path, n: int, *, skip_gaps: Sequence[str] = ("content",)):
    """The ``n`` topics with the best ``priority_rank`` (gap types in ``skip_gaps`` left out), as a DataFrame."""
    import pandas as pd

    path = Path(run_dir) / "topics.parquet"
    if not path.is_file():
        raise DataValidationError(
            f"'{run_dir}' has no topics.parquet; run `ragkit run` with enough questions (topics.min_questions) "
            "or `ragkit monitor` first"
        )
    topics = pd.read_parquet(path).sort_values("priority_rank")
    skipped = topics[topics["gap"].isin(skip_gaps)]
    if len(skipped):
        log.info("skipping %d %s-gap topic(s): %s", len(skipped), "/".join(skip_gaps),
                 "; ".join(skipped["label"].head(5)))
    return topics[~topics["gap"].isin(skip_gaps) & (topics["priority"] > 0)].head(n)


def weakest_topic_questions(run_dir: str | Path, n: int, *, skip_gaps: Sequence[str] = ("content",)) -> list[str]:
    """The question texts of the ``n`` weakest topics of a run (see :func:`weakest_topics`).

    Example:
        >>> texts = weakest_topic_questions("runs/monitor-acme-<ts>", 3)  # doctest: +SKIP
    """
    import pandas as pd

    chosen = weakest_topics(run_dir, n, skip_gaps=skip_gaps)
    questions = pd.read_parquet(Path(run_dir) / "question_topics.parquet")
    texts = questions[questions["topic"].isin(chosen["topic"])]["text"].tolist()
    if not texts:
        raise DataValidationError(
            f"'{run_dir}': no weak topic to target (all topics at or above average, or content gaps)"
        )
    return list(dict.fromkeys(texts))
