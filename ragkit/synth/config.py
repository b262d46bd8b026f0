"""The generator config (``questions.synthetic`` in an experiment, ``synthetic`` for ``ragkit synth``).

Example (YAML)::

    synthetic:
      n: 120                      # questions to keep (after the gates)
      seed: 0
      styles: {factoid: 0.4, paraphrase: 0.3, keyword: 0.2, metadata: 0.1}
      chunker: {name: chars, size: 800, overlap: 240}
      llm: {name: transformers, model: default}      # or {name: openai, base_url: ..., model: ...}
      target: {where: {department: Sales}}           # or doc_ids / near + near_k
      gates: {max_leakage: 0.7, dedup_cosine: 0.9}
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

STYLES = ("factoid", "paraphrase", "keyword", "metadata")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TargetSpec(_Strict):
    """Which chunks questions are written from (all conditions must hold; empty = every chunk).

    ``near``: texts (e.g. a weak topic's questions or keywords); chunks are sampled among
    the ``near_k`` chunks nearest to each (cosine, shared encoder).
    """

    doc_ids: list[str] | None = None
    where: dict[str, Any] | None = None
    near: list[str] | None = None
    near_k: int = Field(20, gt=0)
    model: str = Field("default", description="the shared encoder used for 'near'")


class GatesSpec(_Strict):
    """Quality gates applied to every generated question, in this order.

    Leakage is the share of a question's content words found in its source span
    (:mod:`ragkit.synth.leakage`). ``max_leakage`` 0.7 rejects questions that copy most of
    their content words from the chunk, which would make BM25 look better than on real
    questions, while keeping factoid questions that must name their subject. A keyword
    question's identifier is left out of its leakage (the identifier is the point), and
    metadata questions are exempt (they name a document's title by design); change either
    with ``leakage_by_style`` (style -> threshold, null = no limit).
    """

    min_chars: int = Field(12, ge=1)
    max_chars: int = Field(200, ge=1)
    min_words: int = Field(3, ge=1)
    max_words: int = Field(30, ge=1)
    min_content_words: int = Field(2, ge=0, description="'What is the plan?' has one: too vague to have one right answer")
    max_leakage: float | None = Field(0.7, ge=0.0, le=1.0)
    leakage_by_style: dict[str, float | None] = Field(default_factory=lambda: {"metadata": None})
    dedup_cosine: float | None = Field(0.9, gt=0.0, le=1.0, description="reject a question this similar to a kept one (null: off)")
    dedup_model: str = "default"
    answerability: bool = Field(False, description="ask the LLM whether the passage answers the question (slow)")

    def leakage_limit(self, style: str) -> float | None:
        return self.leakage_by_style[style] if style in self.leakage_by_style else self.max_leakage


class SynthConfig(_Strict):
    """How a synthetic question set is generated; see the module docstring."""

    n: int = Field(100, gt=0, description="questions to keep after the gates")
    seed: int = 0
    styles: dict[str, float] = Field(default_factory=lambda: {"factoid": 0.4, "paraphrase": 0.3, "keyword": 0.2, "metadata": 0.1})
    chunker: dict[str, Any] = Field(default_factory=lambda: {"name": "chars", "size": 800, "overlap": 240})
    llm: dict[str, Any] = Field(default_factory=lambda: {"name": "transformers", "model": "default"})
    prompts: dict[str, str] = Field(
        default_factory=dict, description="template name (a style, 'metadata' or 'answerable') -> path of a file replacing the packaged one"
    )
    target: TargetSpec = TargetSpec()
    gates: GatesSpec = GatesSpec()
    min_passage_chars: int = Field(200, ge=1, description="chunks shorter than this are not used")
    max_passage_chars: int = Field(1000, ge=50, description="longer chunks are cut (at a word) before prompting")
    max_candidates: int | None = Field(None, gt=0, description="give up after this many generations (default 4 x n)")
    batch_size: int = Field(16, gt=0, description="prompts per LLM call (and per progress-log write)")
    path: str | None = Field(None, description="use the synthetic set already in this folder instead of generating one")

    @field_validator("styles")
    @classmethod
    def _styles(cls, v: dict[str, float]) -> dict[str, float]:
        if any(w < 0 for w in v.values()) or sum(v.values()) <= 0:
            raise ValueError(f"style weights must be >= 0 with a positive sum, got {v}")
        return v

    @field_validator("chunker", "llm")
    @classmethod
    def _component(cls, v: dict[str, Any], info) -> dict[str, Any]:
        """A known component name with valid params (checked now, built later)."""
        from pydantic import ValidationError

        from ragkit.registry import CHUNKERS, LLMS, format_validation_error

        if "name" not in v and info.field_name == "llm":
            v = {"name": "transformers", **v}  # llm: {model: X} means a local transformers model
        if "name" not in v:
            raise ValueError(f"needs a 'name' key, e.g. {{name: chars}}; got {v!r}")
        registry = CHUNKERS if info.field_name == "chunker" else LLMS
        params = {k: x for k, x in v.items() if k not in ("name", "label")}
        try:
            registry.get(v["name"]).Config(**params)
        except ValidationError as err:
            raise ValueError("; ".join(format_validation_error(err))) from None
        return v

    @model_validator(mode="after")
    def _custom_styles_have_prompts(self) -> SynthConfig:
        """A style outside :data:`STYLES` is a custom one: it needs its template in ``prompts``."""
        from ragkit.errors import did_you_mean

        for name in self.styles:
            if name not in STYLES and name not in self.prompts:
                raise ValueError(
                    f"styles: unknown style {name!r}; built-in: {', '.join(STYLES)}.{did_you_mean(name, STYLES)} "
                    f"For a style of your own, give its template: prompts: {{{name}: path/to/{name}.txt}}"
                )
        known = {*STYLES, *self.styles, "answerable"}
        for name in self.prompts:
            if name not in known:
                raise ValueError(f"prompts: {name!r} is neither a style nor 'answerable'; known: {', '.join(sorted(known))}.{did_you_mean(name, known)}")
        return self

    def candidates_cap(self) -> int:
        return self.max_candidates or 4 * self.n
