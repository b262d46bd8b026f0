"""Fine-tune a bi-encoder (sentence-transformers) on mined (question, positive, hard negatives) rows.

Two losses:

- ``mnrl``: MultipleNegativesRankingLoss (InfoNCE with in-batch negatives; Henderson
  et al., 2017): each question must pick its positive among every positive and hard
  negative in the batch, at temperature ``1 / scale``. Batches are drawn with
  ``BatchSamplers.NO_DUPLICATES``, so no text appears twice in a batch (a duplicate
  would be a false in-batch negative).
- ``cached_mnrl``: the same loss with gradient caching (Gao et al., 2021): the batch is
  embedded ``mini_batch_size`` texts at a time, so a large batch (more in-batch
  negatives) fits in the memory of a small one, for about 20 % more compute.
- ``triplet``: TripletLoss (Schroff et al., 2015),
  ``max(d(q, pos) - d(q, neg) + margin, 0)`` with cosine distance ``1 - cos`` (or
  Euclidean); a row with several negatives becomes one triplet per negative.

The model is loaded afresh from ``base_model`` (never the process-wide shared
instance), trained on :func:`ragkit.core.runtime.resolve_device`'s device with fp16
mixed precision on CUDA, seeded, checkpointed, and saved as a sentence-transformers
folder that any config can name: ``retrievers: [{name: dense, model: /that/folder}]``.

References:
    Henderson, M. et al. (2017). Efficient Natural Language Response Suggestion for
    Smart Reply. arXiv:1705.00652.
    Gao, L., Zhang, Y., Han, J. & Callan, J. (2021). Scaling Deep Contrastive Learning
    Batch Size under Memory Limited Setup. RepL4NLP.
    Schroff, F., Kalenichenko, D. & Philbin, J. (2015). FaceNet: A unified embedding
    for face recognition and clustering. CVPR.
"""

from __future__ import annotations

import logging
from typing import Literal

from pydantic import Field

from ragkit.train.base import ModelFolder, TrainConfig, TrainOutcome, finished_outcome, fit_and_save, training_arguments
from ragkit.train.mining import MinedSet

log = logging.getLogger(__name__)

__all__ = ["EmbedderTrainConfig", "train_embedder"]


class EmbedderTrainConfig(TrainConfig):
    """Embedder fine-tuning settings (the ``embedder:`` section); see :class:`~ragkit.train.base.TrainConfig`.

    Args:
        loss: ``mnrl`` (MultipleNegativesRankingLoss), ``cached_mnrl`` (the same with
            gradient caching: large batches in little memory) or ``triplet`` (TripletLoss).
        scale: MNRL similarity scale (inverse temperature).
        mini_batch_size: ``cached_mnrl`` only: texts embedded at once.
        triplet_margin: TripletLoss margin, in units of ``triplet_distance``.
        triplet_distance: ``cosine`` (``1 - cos``) or ``euclidean``.
        max_seq_length: tokens per text during training (``None``: the model's own); the
            saved model keeps the base model's length for inference.
    """

    loss: Literal["mnrl", "cached_mnrl", "triplet"] = "mnrl"
    scale: float = Field(20.0, gt=0)
    mini_batch_size: int = Field(32, ge=1)
    triplet_margin: float = Field(0.1, gt=0)
    triplet_distance: Literal["cosine", "euclidean"] = "cosine"
    max_seq_length: int | None = Field(256, ge=8)


def _triplets(mined: MinedSet):
    """One (anchor, positive, negative) row per mined negative, as a ``datasets.Dataset``."""
    import pandas as pd

    from ragkit.train._deps import require_datasets

    parts = [
        mined.frame[["anchor", "positive", f"negative_{i}"]].rename(columns={f"negative_{i}": "negative"})
        for i in range(1, mined.n_negatives + 1)
    ]
    return require_datasets().Dataset.from_pandas(pd.concat(parts, ignore_index=True), preserve_index=False)


def _loss(model, cfg: EmbedderTrainConfig):
    from sentence_transformers.sentence_transformer import losses

    if cfg.loss == "mnrl":
        return losses.MultipleNegativesRankingLoss(model, scale=cfg.scale)
    if cfg.loss == "cached_mnrl":
        return losses.CachedMultipleNegativesRankingLoss(model, scale=cfg.scale, mini_batch_size=cfg.mini_batch_size)
    metric = losses.TripletDistanceMetric.COSINE if cfg.triplet_distance == "cosine" else losses.TripletDistanceMetric.EUCLIDEAN
    return losses.TripletLoss(model, distance_metric=metric, triplet_margin=cfg.triplet_margin)


def train_embedder(
    mined: MinedSet,
    config: EmbedderTrainConfig,
    folder: ModelFolder,
    *,
    device: str = "auto",
    seed: int = 0,
    header: dict | None = None,
) -> TrainOutcome:
    """Fine-tune ``config.base_model`` on ``mined`` and save it into ``folder`` (or reuse a finished one).

    Args:
        mined: rows from :func:`~ragkit.train.mining.mine_hard_negatives`.
        config: trainer and loss settings.
        folder: where the model goes; its key decides whether a finished folder is reused.
        device: ``auto`` (CUDA, MPS, then CPU) or an explicit device.
        seed: seeds python, numpy, torch, the data order and the dropout masks.
        header: extra keys for the folder's ``ragkit.json`` (e.g. mining statistics).

    Returns:
        A :class:`~ragkit.train.base.TrainOutcome`; ``reused`` when nothing was trained.

    Example:
        >>> folder = ModelFolder("runs/models/my-embedder", key="abc")  # doctest: +SKIP
        >>> train_embedder(mined, EmbedderTrainConfig(epochs=1), folder).model_dir  # doctest: +SKIP
        PosixPath('runs/models/my-embedder')
    """
    if (done := finished_outcome(folder, "embedder")) is not None:
        return done
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
    from sentence_transformers.sentence_transformer.training_args import BatchSamplers, SentenceTransformerTrainingArguments

    from ragkit.core.models import resolve_model_path
    from ragkit.core.runtime import resolve_device, seed_everything

    dev = resolve_device(device)
    seed_everything(seed)
    model = SentenceTransformer(resolve_model_path(config.base_model), device=dev)  # a private copy
    inference_length = model.max_seq_length
    if config.max_seq_length:
        model.max_seq_length = config.max_seq_length
    data = _triplets(mined) if config.loss == "triplet" else mined.to_dataset()
    args = training_arguments(
        SentenceTransformerTrainingArguments, config, output_dir=folder.checkpoints, device=dev, seed=seed,
        batch_sampler=BatchSamplers.NO_DUPLICATES,
    )
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=data, loss=_loss(model, config))

    def save(path: str) -> None:
        model.max_seq_length = inference_length  # a shorter training length is for speed; the model keeps its own
        model.save(path)

    return fit_and_save(trainer, save, folder, "embedder", config, mined, header, len(data))
