from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from ragkit.core.cache import EmbeddingCache, text_key
from ragkit.core.models import get_embedder, model_signature, resolve_model_path
from ragkit.core.runtime import resolve_device
from ragkit.errors import ConfigError


def test_import_ragkit_does_not_import_torch():
    code = "import sys, ragkit, ragkit.data, ragkit.chunking, ragkit.retrieval; print('torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_default_resolves_to_bundled_model():
    path = resolve_model_path("default")
    assert path.endswith("model") and resolve_model_path("all-MiniLM-L6-v2") == path
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_model_path("./no/such/model")


def test_device_resolution():
    assert resolve_device("auto") in {"cpu", "cuda", "mps"}
    assert resolve_device("cpu") == "cpu"
    with pytest.raises(ConfigError, match="allowed: auto, cpu"):
        resolve_device("tpu")


def test_same_instance_shared(embedder):
    assert get_embedder("default", device="cpu") is embedder
    assert get_embedder("all-MiniLM-L6-v2", device="cpu") is embedder


def test_encode_normalised_float32_and_order(embedder):
    texts = ["the cat sat on the mat", "quarterly pricing for enterprise plans", "the cat sat on the mat", ""]
    v = embedder.encode(texts)
    assert v.dtype == np.float32 and v.shape == (4, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(v[0], v[2])
    raw = embedder.model.encode(texts[:2], normalize_embeddings=True)
    assert np.allclose(v[:2], raw, atol=1e-5)


def test_second_pass_makes_no_model_call(embedder, acme_dir):
    from ragkit.chunking.chars import CharChunker
    from ragkit.data.folder import load_folder

    docs = load_folder(acme_dir / "docs")
    chunks = CharChunker(size=200, overlap=60).chunk_all(docs)[:1000]
    texts = [f"acme-cache-test {c.text}" for c in chunks]  # fresh texts: not cached by other tests
    assert len(texts) == 1000
    before = embedder.model_calls
    first = embedder.encode(texts)
    assert embedder.model_calls - before == len(set(texts))
    mid = embedder.model_calls
    second = embedder.encode(texts)
    assert embedder.model_calls == mid  # no model call on the second pass
    assert np.array_equal(first, second)


def test_cache_persists_across_instances(tmp_path):
    keys = [text_key(t) for t in ["a", "b", "c"]]
    vecs = np.arange(6, dtype=np.float32).reshape(3, 2)
    c1 = EmbeddingCache(tmp_path, "fp")
    c1.put(keys[:2], vecs[:2])
    c1.put(keys[1:], vecs[1:])  # b already there: only c is written
    c2 = EmbeddingCache(tmp_path, "fp")
    found, got = c2.get(keys)
    assert found.all() and np.array_equal(got, vecs)
    assert len(list((tmp_path / "fp").glob("shard-*.npz"))) == 2
    assert not EmbeddingCache(tmp_path, "other").get(keys)[0].any()


def test_cache_ignores_corrupt_shard(tmp_path):
    (tmp_path / "fp").mkdir()
    (tmp_path / "fp" / "shard-000000-bad.npz").write_bytes(b"not a zip")
    assert len(EmbeddingCache(tmp_path, "fp")) == 0


def test_count_tokens_includes_special_tokens(embedder):
    assert embedder.count_tokens(["hello world"]) == [4]  # [CLS] hello world [SEP]
    assert embedder.max_seq_length == 256


def test_model_signature_follows_local_files(tmp_path):
    (tmp_path / "w.bin").write_bytes(b"1")
    s1 = model_signature(str(tmp_path))
    (tmp_path / "w.bin").write_bytes(b"22")
    assert model_signature(str(tmp_path)) != s1
    assert model_signature("default").startswith("bundled-minilm-")


def test_unreachable_hub_model_gives_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ConfigError, match="(?s)could not load model 'no-such-org/no-such-model'.*use 'default'"):
        get_embedder("no-such-org/no-such-model", device="cpu")
