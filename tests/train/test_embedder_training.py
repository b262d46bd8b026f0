"""Embedder fine-tuning on CPU for a few steps: the saved folder loads, encodes and serves a dense retriever."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from ragkit.train.base import TRAINING_ROWS, ModelFolder
from ragkit.train.embedder import EmbedderTrainConfig, train_embedder

TINY = {"max_steps": 2, "batch_size": 4, "max_seq_length": 32, "save_steps": 1000, "logging_steps": 1}


@pytest.fixture(scope="module")
def trained(tmp_path_factory, embedder, tiny_mined):
    """One MNRL fine-tune of the bundled MiniLM (2 steps), shared by the tests below."""
    before = embedder.fingerprint
    folder = ModelFolder(tmp_path_factory.mktemp("emb") / "model", key="k1")
    out = train_embedder(tiny_mined, EmbedderTrainConfig(**TINY), folder, device="cpu", seed=0)
    return folder, out, before


def test_saved_folder_loads_and_encodes(trained, embedder):
    folder, out, before = trained
    assert out.steps == 2 and not out.reused and len(out.losses) == 2
    assert out.model_dir == folder.path and not folder.partial.exists()  # checkpoints are dropped once saved
    header = json.loads((folder.path / "ragkit.json").read_text())
    assert header["kind"] == "embedder" and header["key"] == "k1" and header["schema_version"] == 1
    assert header["config"]["loss"] == "mnrl" and header["n_train"] == 8
    assert (folder.path / TRAINING_ROWS).is_file()

    from ragkit.core.models import get_embedder

    tuned = get_embedder(str(folder.path), device="cpu")
    assert tuned.max_seq_length == embedder.max_seq_length  # trained at 32 tokens, keeps the base length
    vecs = tuned.encode(["what do solar panels make", "Bread needs flour."])
    assert vecs.shape == (2, 384) and np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert tuned.fingerprint != before
    assert embedder.fingerprint == before  # the shared bundled model was not trained in place


def test_finished_folder_is_reused(trained, tiny_mined):
    folder, out, _ = trained
    mtime = (folder.path / "model.safetensors").stat().st_mtime_ns
    again = train_embedder(tiny_mined, EmbedderTrainConfig(**TINY), folder, device="cpu")
    assert again.reused and again.steps == out.steps
    assert (folder.path / "model.safetensors").stat().st_mtime_ns == mtime
    assert ModelFolder(folder.path, key="another config").finished() is None


def test_dense_retriever_takes_the_folder(trained):
    from ragkit.data.types import Chunk, Query
    from ragkit.registry import RETRIEVERS

    r = RETRIEVERS.create("dense", {"model": str(trained[0].path), "device": "cpu"})
    r.index([Chunk("a#0", "a", "Bees make honey from nectar.", 0, 28), Chunk("b#0", "b", "Trains run on rails.", 0, 20)])
    assert r.retrieve([Query("q", "how do bees make honey")], k=1)["q"][0].doc_id == "a"


@pytest.mark.parametrize("loss, rows", [("triplet", 16), ("cached_mnrl", 8)])
def test_other_losses(tiny_mined, tmp_path, loss, rows):
    folder = ModelFolder(tmp_path / "model", key=loss)
    cfg = EmbedderTrainConfig(loss=loss, triplet_margin=0.3, mini_batch_size=2, **{**TINY, "max_steps": 1})
    out = train_embedder(tiny_mined, cfg, folder, device="cpu")
    header = json.loads((folder.path / "ragkit.json").read_text())
    # triplet: one (anchor, positive, negative) row per mined negative
    assert out.steps == 1 and header["n_train"] == rows and header["config"]["loss"] == loss


def test_interrupted_training_resumes_from_checkpoint(trained, tiny_mined, tmp_path, monkeypatch, caplog):
    from transformers import Trainer

    folder = ModelFolder(tmp_path / "model", key="k3")
    cfg = EmbedderTrainConfig(**{**TINY, "save_steps": 1})
    save = Trainer._save_checkpoint

    def save_then_die(self, *args, **kwargs):
        save(self, *args, **kwargs)
        raise KeyboardInterrupt  # the process is killed right after the first checkpoint

    monkeypatch.setattr(Trainer, "_save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        train_embedder(tiny_mined, cfg, folder, device="cpu")
    assert folder.last_checkpoint().endswith("checkpoint-1") and folder.finished() is None
    monkeypatch.undo()
    with caplog.at_level(logging.INFO, logger="ragkit"):
        out = train_embedder(tiny_mined, cfg, folder, device="cpu")
    assert "resuming embedder training from" in caplog.text
    # the resumed run ends where an uninterrupted one does: same steps, same logged losses
    assert out.steps == 2 and out.losses == pytest.approx(trained[1].losses, rel=1e-4)
    assert folder.finished() is not None and not folder.partial.exists()
