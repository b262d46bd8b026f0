"""Real-time question classifier: predicts the topic of new questions from a fitted topic model.

A linear head over question features, fitted on the topic assignments:

- ``features="static"`` (default): static piece vectors distilled from the shared
  encoder and mapped onto its embedding space (:mod:`ragkit.topics.static`); prediction
  needs only the saved tokenizer and arrays, no transformer, and runs at thousands of
  questions per second on a CPU.
- ``features="encoder"``: the shared encoder's sentence embeddings (the very vectors
  the topics were clustered on); closest to BERTopic's own ``transform``, a few hundred
  questions per second on a CPU.

``head="logistic"`` is a multinomial logistic regression; ``head="centroid"`` assigns
the topic whose mean vector is closest in cosine. Both are one matrix product.

Saved as a folder: ``ragkit.json`` (kind, name, schema_version, ragkit_version, config),
``weights.npy`` (d, T), ``bias.npy`` (T), ``topics.json`` (id, label, keywords per
topic, human-readable) and, for static features, ``static/`` (tokenizer.json,
vectors.npy, projection.npy, bias.npy).

A run folder's classifier is fitted on first use from its ``question_topics.parquet``
(:meth:`QuestionClassifier.from_run`) and kept in ``<run>/topic_classifier/``.

Example:
    >>> from ragkit.topics import QuestionClassifier
    >>> clf = QuestionClassifier.open("runs/acme-monitor-<ts>")  # doctest: +SKIP
    >>> clf.predict(["who owns the travel policy?"])  # doctest: +SKIP
    [4]
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ragkit.errors import ConfigError, DataValidationError

log = logging.getLogger(__name__)

__all__ = ["QuestionClassifier"]

KIND = "topic_classifier"
SCHEMA_VERSION = 1
Features = Literal["static", "encoder"]
Head = Literal["logistic", "centroid"]


def _save_npy(arr: np.ndarray, path: Path) -> None:
    import io

    from ragkit.experiment.store import atomic_write_bytes

    buf = io.BytesIO()
    np.save(buf, arr)
    atomic_write_bytes(path, buf.getvalue())


def _fit_head(x: np.ndarray, y: np.ndarray, head: str, c: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(weights (d, T), bias (T,), topic id per column)."""
    classes = np.unique(y)
    if len(classes) == 1 or head == "centroid":
        cents = np.stack([x[y == k].mean(0) for k in classes])
        cents /= np.linalg.norm(cents, axis=1, keepdims=True) + 1e-12
        return cents.T.astype(np.float32), np.zeros(len(classes), np.float32), classes
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=c, max_iter=2000).fit(x, y)
    w, b = lr.coef_, lr.intercept_
    if len(lr.classes_) == 2:  # sklearn keeps one row for two classes: make it two symmetric logits
        w, b = np.vstack([-w[0] / 2, w[0] / 2]), np.array([-b[0] / 2, b[0] / 2])
    return w.T.astype(np.float32), b.astype(np.float32), lr.classes_


class QuestionClassifier:
    """Topic of a question in real time (see the module docstring)."""

    def __init__(
        self, weights, bias, topic_ids, topics: list[dict[str, Any]], config: dict[str, Any], static=None
    ) -> None:
        self.weights = np.asarray(weights, dtype=np.float32)  # (d, T)
        self.bias = np.asarray(bias, dtype=np.float32)  # (T,)
        self.topic_ids = np.asarray(topic_ids, dtype=np.int64)  # (T,)
        self.topics = topics
        self.config = config
        self.static = static
        self._embedder = None

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        topics: Sequence[int],
        *,
        embedder,
        embeddings: np.ndarray | None = None,
        features: Features = "static",
        head: Head = "logistic",
        c: float = 10.0,
        topic_info: list[dict[str, Any]] | None = None,
    ) -> QuestionClassifier:
        """Fit on questions and their topic ids.

        Args:
            texts, topics: the questions and their topic assignments.
            embedder: the shared :class:`~ragkit.core.embedder.Embedder` (for static
                features: the vectors are distilled from it once and cached).
            embeddings: the encoder embeddings of ``texts`` when already computed.
            features, head: see the module docstring.
            c: inverse L2 strength of the logistic head.
            topic_info: ``[{"topic", "label", "keywords"}]`` saved alongside.
        """
        if features not in ("static", "encoder") or head not in ("logistic", "centroid"):
            raise ConfigError(
                f"classifier: features must be static|encoder and head logistic|centroid; got {features!r}, {head!r}"
            )
        y = np.asarray(topics, dtype=np.int64)
        if len(texts) == 0 or len(texts) != len(y):
            raise DataValidationError(
                f"classifier: need one topic per question and at least one question; got {len(texts)} texts, {len(y)} topics"
            )
        static = None
        if features == "static":
            from ragkit.topics.static import StaticEncoder

            targets = embeddings if embeddings is not None else embedder.encode(list(texts))
            static = StaticEncoder.fit(embedder, texts, targets)
            x = static.encode(texts)
        else:
            x = embeddings if embeddings is not None else embedder.encode(list(texts))
        w, b, ids = _fit_head(np.asarray(x, dtype=np.float32), y, head, c)
        info = topic_info or [{"topic": int(t), "label": f"topic {t}", "keywords": ""} for t in ids]
        config = {"features": features, "head": head, "c": c, "model": embedder.name,
                  "model_fingerprint": embedder.fingerprint, "n_topics": len(ids), "dim": int(w.shape[0]), "n_train": len(y)}
        clf = cls(w, b, ids, info, config, static)
        clf._embedder = embedder
        return clf

    @classmethod
    def from_run(cls, run_dir: str | Path, *, features: Features = "static", head: Head = "logistic",
                 save: bool = True) -> QuestionClassifier:
        """Fit on a run folder's topic assignments (``question_topics.parquet``) with the run's encoder;
        saved as ``<run_dir>/topic_classifier/`` unless ``save`` is False."""
        import pandas as pd
        import yaml

        from ragkit.core.models import get_embedder

        run_dir = Path(run_dir)
        qt, tp = run_dir / "question_topics.parquet", run_dir / "topics.parquet"
        if not (qt.is_file() and tp.is_file()):
            raise DataValidationError(
                f"'{run_dir}' has no topic files (question_topics.parquet, topics.parquet); give a run folder of "
                "`ragkit monitor` or of a `ragkit run` with at least topics.min_questions questions"
            )
        questions, topics = pd.read_parquet(qt), pd.read_parquet(tp)
        cfg_path = run_dir / "config.yaml"
        cfg = yaml.safe_load(cfg_path.read_text(encoding="utf-8")) if cfg_path.is_file() else {}
        embedder = get_embedder(cfg.get("monitor_model", "default"), cfg.get("device", "auto"))
        info = [{"topic": int(r["topic"]), "label": str(r["label"]), "keywords": str(r["keywords"]),
                 "gap": str(r.get("gap", ""))} for r in topics.to_dict("records")]
        clf = cls.fit(questions["text"].tolist(), questions["topic"].to_numpy(), embedder=embedder, features=features,
                      head=head, topic_info=info)
        if save:
            clf.save(run_dir / "topic_classifier")
        return clf

    @classmethod
    def open(cls, path: str | Path, *, features: Features = "static") -> QuestionClassifier:
        """A classifier folder, a run folder's saved classifier (if it has ``features``), or one fitted now
        from a run folder (and saved there)."""
        path = Path(path)
        if (path / "ragkit.json").is_file():
            return cls.load(path)
        saved = path / "topic_classifier" / "ragkit.json"
        if saved.is_file() and json.loads(saved.read_text(encoding="utf-8"))["config"].get("features") == features:
            return cls.load(path)
        log.info("fitting the topic classifier of %s (%s features; saved in topic_classifier/)", path, features)
        return cls.from_run(path, features=features)

    def features(self, texts: Sequence[str]) -> np.ndarray:
        """(n, d) features of ``texts`` (static vectors, or the shared encoder's embeddings)."""
        if self.static is not None:
            return self.static.encode(texts)
        if self._embedder is None:
            from ragkit.core.models import get_embedder

            self._embedder = get_embedder(self.config["model"])
        return self._embedder.encode(list(texts))

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """(n, T) logits; column j is topic ``topic_ids[j]``."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, len(self.topic_ids)), dtype=np.float32)
        return self.features(texts) @ self.weights + self.bias

    def predict(self, texts: Sequence[str]) -> list[int]:
        """The topic id of each text."""
        texts = list(texts)
        return self.predict_features(self.features(texts)) if texts else []

    def predict_features(self, x: np.ndarray) -> list[int]:
        """The topic id of each row of precomputed features (static vectors or encoder embeddings)."""
        s = np.asarray(x, dtype=np.float32) @ self.weights + self.bias
        return self.topic_ids[np.argmax(s, axis=1)].tolist() if len(s) else []

    def label(self, topic: int) -> str:
        return next((str(t["label"]) for t in self.topics if int(t["topic"]) == topic), f"topic {topic}")

    def save(self, folder: str | Path) -> Path:
        """Write the classifier folder (atomically, file by file); returns its path."""
        from ragkit import __version__
        from ragkit.experiment.store import write_json

        folder = Path(folder)
        _save_npy(self.weights, folder / "weights.npy")
        _save_npy(self.bias, folder / "bias.npy")
        _save_npy(self.topic_ids, folder / "topic_ids.npy")
        write_json(self.topics, folder / "topics.json")
        if self.static is not None:
            self.static.save(folder / "static")
        name = f"{self.config['features']}-{self.config['head']}"
        header = {"kind": KIND, "name": name, "schema_version": SCHEMA_VERSION, "ragkit_version": __version__,
                  "config": self.config}
        write_json(header, folder / "ragkit.json")  # last: a folder with a header is complete
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> QuestionClassifier:
        """Read a folder written by :meth:`save`; a run folder is accepted too (its ``topic_classifier/``)."""
        folder = Path(folder)
        if not (folder / "ragkit.json").is_file() and (folder / "topic_classifier" / "ragkit.json").is_file():
            folder = folder / "topic_classifier"
        head_path = folder / "ragkit.json"
        if not head_path.is_file():
            raise DataValidationError(
                f"'{folder}' is not a topic classifier folder (no ragkit.json); give a run folder or its topic_classifier/"
            )
        header = json.loads(head_path.read_text(encoding="utf-8"))
        if header.get("kind") != KIND or header.get("schema_version", 0) > SCHEMA_VERSION:
            raise DataValidationError(
                f"'{folder}': kind {header.get('kind')!r}, schema {header.get('schema_version')}; "
                f"expected {KIND!r} <= {SCHEMA_VERSION}"
            )
        static = None
        if header["config"]["features"] == "static":
            from ragkit.topics.static import StaticEncoder

            static = StaticEncoder.load(folder / "static")
        topics = json.loads((folder / "topics.json").read_text(encoding="utf-8"))
        return cls(np.load(folder / "weights.npy"), np.load(folder / "bias.npy"), np.load(folder / "topic_ids.npy"),
                   topics, header["config"], static)
