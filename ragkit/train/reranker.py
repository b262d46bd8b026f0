"""Fine-tune a cross-encoder reranker on the same mined rows as the embedder.

Two losses:

- ``bce``: binary cross-entropy on single (question, passage) pairs: each mined row
  gives one positive pair (label 1) and one pair per hard negative (label 0); the
  standard recipe of the MS MARCO cross-encoders (Nogueira & Cho, 2019).
- ``listwise``: softmax cross-entropy over each question's positive, its mined hard
  negatives and ``in_batch_negatives`` sampled from the rest of the batch
  (sentence-transformers' cross-encoder MultipleNegativesRankingLoss).

``base_model`` may be a trained cross-encoder (hub name or folder) or any encoder: the
bundled all-MiniLM-L6-v2 (``default``) then gets a freshly initialised one-logit head,
which makes fine-tuning work fully offline. The model is loaded afresh (never the
shared instance), seeded, checkpointed, and saved as a CrossEncoder folder usable as
``rerankers: [{name: cross_encoder, model: /that/folder}]``.

Reference:
    Nogueira, R. & Cho, K. (2019). Passage Re-ranking with BERT. arXiv:1901.04085.
"""

from __future__ import annotations

import logging
from typing import Literal

from pydantic import Field

from ragkit.train.base import ModelFolder, TrainConfig, TrainOutcome, finished_outcome, fit_and_save, training_arguments
from ragkit.train.mining import MinedSet

log = logging.getLogger(__name__)

__all__ = ["RerankerTrainConfig", "pairs_with_labels", "train_reranker"]


class RerankerTrainConfig(TrainConfig):
    """Reranker fine-tuning settings (the ``reranker:`` section); see :class:`~ragkit.train.base.TrainConfig`.

    Args:
        loss: ``bce`` (pointwise, labels 1/0) or ``listwise`` (softmax over positive + negatives).
        in_batch_negatives: ``listwise`` only: extra negatives drawn from other rows of the batch.
        max_length: tokens per (question, passage) pair.
        retriever: first stage whose top ``depth`` hits the reranker reorders at evaluation.
        depth: hits reranked per question at evaluation.
    """

    batch_size: int = Field(16, ge=2)
    loss: Literal["bce", "listwise"] = "bce"
    in_batch_negatives: int = Field(3, ge=0)
    max_length: int = Field(256, ge=8)
    retriever: dict = Field(default_factory=lambda: {"name": "dense"})
    depth: int = Field(20, ge=1)


def pairs_with_labels(mined: MinedSet):
    """(query, passage, label) rows: 1 for each positive, 0 for each hard negative.

    Example:
        >>> import pandas as pd
        >>> m = MinedSet(pd.DataFrame({"anchor": ["q"], "positive": ["p"], "negative_1": ["n"]}), 1)
        >>> pairs_with_labels(m).values.tolist()
        [['q', 'p', 1.0], ['q', 'n', 0.0]]
    """
    import pandas as pd

    f = mined.frame
    parts = [pd.DataFrame({"query": f["anchor"], "passage": f["positive"], "label": 1.0})]
    parts += [
        pd.DataFrame({"query": f["anchor"], "passage": f[f"negative_{i}"], "label": 0.0})
        for i in range(1, mined.n_negatives + 1)
    ]
    # interleave so a question's positive and negatives are spread over the epoch, not in blocks
    out = pd.concat(parts, keys=range(len(parts))).swaplevel().sort_index(level=0, sort_remaining=True)
    return out.reset_index(drop=True)


def _data_and_loss(model, mined: MinedSet, cfg: RerankerTrainConfig):
    from sentence_transformers.cross_encoder import losses

    from ragkit.train._deps import require_datasets

    ds = require_datasets().Dataset
    if cfg.loss == "bce":
        return ds.from_pandas(pairs_with_labels(mined), preserve_index=False), losses.BinaryCrossEntropyLoss(model)
    loss = losses.MultipleNegativesRankingLoss(model, num_negatives=cfg.in_batch_negatives or None)
    return mined.to_dataset(), loss


def train_reranker(
    mined: MinedSet,
    config: RerankerTrainConfig,
    folder: ModelFolder,
    *,
    device: str = "auto",
    seed: int = 0,
    header: dict | None = None,
) -> TrainOutcome:
    """Fine-tune ``config.base_model`` as a cross-encoder on ``mined``; save into ``folder`` (or reuse it).

    Args:
        mined: rows from :func:`~ragkit.train.mining.mine_hard_negatives`.
        config: trainer and loss settings.
        folder: where the model goes; its key decides whether a finished folder is reused.
        device: ``auto`` (CUDA, MPS, then CPU) or an explicit device.
        seed: seeds python, numpy, torch (the new head's initialisation), and the data order.
        header: extra keys for the folder's ``ragkit.json``.

    Returns:
        A :class:`~ragkit.train.base.TrainOutcome`; ``reused`` when nothing was trained.

    Example:
        >>> train_reranker(mined, RerankerTrainConfig(loss="bce"), ModelFolder("runs/models/rr", "k"))  # doctest: +SKIP
    """
    if (done := finished_outcome(folder, "reranker")) is not None:
        return done
    from sentence_transformers.base.sampler import BatchSamplers
    from sentence_transformers.cross_encoder import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments

    from ragkit.core.models import model_load_error, resolve_model_path
    from ragkit.core.runtime import resolve_device, seed_everything

    dev = resolve_device(device)
    seed_everything(seed)
    try:  # a private copy; an encoder without a head gets a fresh one-logit head
        model = CrossEncoder(resolve_model_path(config.base_model), num_labels=1, max_length=config.max_length, device=dev)
    except OSError as err:
        raise model_load_error(config.base_model, err) from err
    data, loss = _data_and_loss(model, mined, config)
    sampler = BatchSamplers.NO_DUPLICATES if config.loss == "listwise" else BatchSamplers.BATCH_SAMPLER
    args = training_arguments(
        CrossEncoderTrainingArguments, config, output_dir=folder.checkpoints, device=dev, seed=seed, batch_sampler=sampler
    )
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=data, loss=loss)
    return fit_and_save(trainer, model.save, folder, "reranker", config, mined, header, len(data))
