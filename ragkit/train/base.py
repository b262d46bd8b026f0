"""What embedder and reranker training share: the trainer settings, the model folder, the outcome.

A model folder is written once, complete: training checkpoints go to
``<model_dir>.partial/checkpoints`` (an interrupted run resumes from the newest
one), the final model is saved next to them and moved into ``model_dir`` with a
``ragkit.json`` header (kind, schema version, ragkit version, the config and its
key). A later run with the same key finds the finished folder and skips training.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ragkit.core.runtime import DtypeName

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
TRAINING_ROWS = "training_rows.parquet"  # the mined rows a model was trained on, kept in its folder


class TrainConfig(BaseModel):
    """Trainer settings shared by embedders and rerankers (CPU-sized defaults).

    Args:
        base_model: model to start from: ``default`` (the bundled all-MiniLM-L6-v2), a
            hub name or a local folder. It is loaded afresh, never the shared instance.
        epochs: passes over the mined rows.
        batch_size: rows per step (MNRL: the in-batch negatives; bigger is better on a GPU).
        learning_rate: peak AdamW learning rate (linear warm-up, then linear decay).
        warmup_ratio: share of the steps used for warm-up.
        weight_decay: AdamW weight decay.
        max_steps: stop after this many steps (``-1``: run all epochs).
        dtype: mixed precision: ``auto`` (fp16 on CUDA, fp32 elsewhere), ``float32``,
            ``float16``, ``bfloat16``.
        save_steps: checkpoint every N steps (an interrupted run resumes from the last one).
        save_total_limit: checkpoints kept.
        logging_steps: log the training loss every N steps.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_model: str = "default"
    epochs: float = Field(1.0, gt=0)
    batch_size: int = Field(32, ge=2)
    learning_rate: float = Field(2e-5, gt=0)
    warmup_ratio: float = Field(0.1, ge=0, lt=1)
    weight_decay: float = Field(0.01, ge=0)
    max_steps: int = Field(-1, ge=-1)
    dtype: DtypeName = "auto"
    save_steps: int = Field(200, ge=1)
    save_total_limit: int = Field(2, ge=1)
    logging_steps: int = Field(10, ge=1)


@dataclass
class TrainOutcome:
    """What a training call produced."""

    model_dir: Path
    seconds: float
    steps: int
    losses: list[float] = field(default_factory=list)  # logged training losses, in order
    reused: bool = False  # a finished folder with the same key was found; nothing was trained


def training_arguments(args_cls, cfg: TrainConfig, *, output_dir: Path, device: str, seed: int, **extra: Any):
    """``args_cls`` (a sentence-transformers TrainingArguments class) from ``cfg``, with the device's precision."""
    from ragkit.core.runtime import resolve_dtype, show_progress

    dtype = str(resolve_dtype(cfg.dtype, device)).removeprefix("torch.")
    on_gpu = device.startswith("cuda")
    return args_cls(
        output_dir=str(output_dir),
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate,
        warmup_steps=cfg.warmup_ratio,  # transformers 5: a float in [0, 1) is a ratio of all steps
        weight_decay=cfg.weight_decay,
        fp16=on_gpu and dtype == "float16",
        bf16=on_gpu and dtype == "bfloat16",
        use_cpu=device == "cpu",
        save_strategy="steps",
        save_steps=cfg.save_steps,
        save_total_limit=cfg.save_total_limit,
        logging_steps=cfg.logging_steps,
        seed=seed,
        data_seed=seed,
        report_to="none",
        disable_tqdm=not show_progress(),
        **extra,
    )


class ModelFolder:
    """A fine-tuned model's folder, its partial sibling (checkpoints) and its ``ragkit.json`` header."""

    def __init__(self, path: str | Path, key: str) -> None:
        self.path = Path(path).resolve()
        self.key = key
        self.partial = self.path.with_name(self.path.name + ".partial")

    @property
    def checkpoints(self) -> Path:
        return self.partial / "checkpoints"

    def finished(self) -> dict[str, Any] | None:
        """The header of a finished folder trained with this key, else None."""
        header = self.path / "ragkit.json"
        if not header.is_file():
            return None
        meta = json.loads(header.read_text(encoding="utf-8"))
        if meta.get("key") != self.key:
            log.warning("%s holds a model trained with another config; it will be replaced", self.path)
            return None
        return meta

    def last_checkpoint(self) -> str | None:
        """The newest checkpoint of an interrupted run, if any."""
        if not self.checkpoints.is_dir():
            return None
        from transformers.trainer_utils import get_last_checkpoint

        return get_last_checkpoint(str(self.checkpoints))

    def commit(self, save: Callable[[str], None], kind: str, config: dict[str, Any], extra: dict[str, Any], mined=None) -> None:
        """Save through ``save(path)``, add ``ragkit.json`` (and the training rows), move into place, drop the checkpoints."""
        from ragkit import __version__
        from ragkit.experiment.store import commit_dir, write_json

        tmp = self.partial / "model"
        if tmp.exists():
            shutil.rmtree(tmp)
        save(str(tmp))
        if mined is not None:
            mined.save(tmp / TRAINING_ROWS)
        header = {"kind": kind, "name": "finetuned", "schema_version": SCHEMA_VERSION, "ragkit_version": __version__,
                  "key": self.key, "config": config, **extra}
        write_json(header, tmp / "ragkit.json")
        commit_dir(tmp, self.path)
        shutil.rmtree(self.partial, ignore_errors=True)
        log.info("saved %s to %s", kind, self.path)


def finished_outcome(folder: ModelFolder, kind: str) -> TrainOutcome | None:
    """The outcome recorded in a finished folder with ``folder.key``, or None (then train)."""
    meta = folder.finished()
    if meta is None:
        return None
    log.info("reusing the fine-tuned %s in %s", kind, folder.path)
    losses = list(meta.get("losses", []))
    return TrainOutcome(folder.path, float(meta.get("train_seconds", 0.0)), int(meta.get("steps", 0)), losses, reused=True)


def fit_and_save(trainer, save: Callable[[str], None], folder: ModelFolder, kind: str, config: TrainConfig, mined,
                 header: dict[str, Any] | None, n_train: int) -> TrainOutcome:
    """Train (resuming from the newest checkpoint, if any), then commit the model folder."""
    import time

    resume = folder.last_checkpoint()
    if resume:
        log.info("resuming %s training from %s", kind, resume)
    t0 = time.perf_counter()
    trainer.train(resume_from_checkpoint=resume)
    seconds = time.perf_counter() - t0
    steps = int(trainer.state.global_step)
    losses = [float(e["loss"]) for e in trainer.state.log_history if "loss" in e]
    extra = {**(header or {}), "train_seconds": seconds, "steps": steps, "losses": losses, "n_train": n_train}
    folder.commit(save, kind, config.model_dump(mode="json"), extra, mined)
    return TrainOutcome(folder.path, seconds, steps, losses)
