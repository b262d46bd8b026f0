"""Deterministic replies for the synth tests' chat server (plumbing tests, not question quality)."""

from __future__ import annotations


def scripted_question(body: dict) -> str:
    """A deterministic question built from the prompt's passage (for tests about plumbing, not quality)."""
    import re

    passage = body["messages"][-1]["content"] if body["messages"][-1]["role"] == "user" else body["messages"][-2]["content"]
    words = re.findall(r"[A-Za-z]{5,}", passage.split('"""')[1] if '"""' in passage else passage)
    return f"Which rule covers {words[0].lower()} and {words[-1].lower()}?"
