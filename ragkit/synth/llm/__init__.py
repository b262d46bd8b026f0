"""LLM backends for question writing, one interface (:class:`~ragkit.synth.llm.base.LLM`), chosen
in config by name: ``transformers`` (a local causal LM; offline default SmolLM2-135M-Instruct)
or ``openai`` (any OpenAI-compatible chat endpoint: vLLM, Ollama, llama.cpp server, OpenAI)."""

from ragkit.synth.llm.base import LLM, LLMBackendError

__all__ = ["LLM", "LLMBackendError"]
