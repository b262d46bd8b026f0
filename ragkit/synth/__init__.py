"""Synthetic questions: LLM backends, prompts, seeded document-stratified sampling, quality gates.

Entry points: :func:`ragkit.synth.generate.synthesize` (cached, resumable) and
:func:`ragkit.synth.generate.generate_set`; the set folder format is in
:mod:`ragkit.synth.synthetic_set`. Nothing heavy is imported here.
"""
