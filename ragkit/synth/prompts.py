"""Prompt templates (package data in ``ragkit/synth/prompts/``, overridable by path from the config).

A chat template file is a list of sections, each opened by ``### ROLE`` (``system``,
``user``, ``assistant``); an optional ``### openers`` section lists comma-separated
first words that the reply is made to start with, one drawn per question (seeded),
which spreads the question types a small model writes. Placeholders: ``{passage}``,
``{opener}``, ``{identifier}``, ``{question}``, ``{title}``; every other brace is literal.
A final ``assistant`` section is a prefill that the model continues.

``metadata.txt`` holds ``FIELD: template`` lines instead (metadata questions are written
from document metadata without the LLM).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ragkit.errors import ConfigError

PROMPT_DIR = Path(__file__).parent / "prompts"
_SECTION = re.compile(r"^###\s*(\w+)\s*$", re.M)
_PLACEHOLDER = re.compile(r"\{(passage|opener|identifier|question|title)\}")
_ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class ChatTemplate:
    """Chat messages with placeholders, and the openers to draw from."""

    messages: tuple[tuple[str, str], ...]
    openers: tuple[str, ...] = ("",)
    source: str = ""

    def render(self, **values: str) -> list[dict[str, str]]:
        """Messages with placeholders filled in one pass (a ``{`` inside a value is never re-read).

        A final assistant message left empty is dropped (plain generation prompt).
        """
        def fill(text: str) -> str:
            return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)

        out = [{"role": role, "content": fill(text)} for role, text in self.messages]
        if out and out[-1]["role"] == "assistant" and not out[-1]["content"].strip():
            out.pop()
        return out

    @property
    def examples(self) -> list[str]:
        """The example replies in the template (assistant messages without placeholders)."""
        return [text for role, text in self.messages if role == "assistant" and not _PLACEHOLDER.search(text) and text.strip()]

    @property
    def text(self) -> str:
        """Canonical text of the template (for cache keys)."""
        return repr((self.messages, self.openers))


def _read(name: str, override: str | None) -> tuple[str, str]:
    path = Path(override).expanduser() if override else PROMPT_DIR / f"{name}.txt"
    if not path.is_file():
        raise ConfigError(f"prompts.{name}: template file '{path}' does not exist; give a path to a text file")
    return path.read_text(encoding="utf-8"), str(path)


def load_chat_template(name: str, override: str | None = None) -> ChatTemplate:
    """The chat template ``name`` (packaged ``prompts/<name>.txt``, or the file ``override``)."""
    text, source = _read(name, override)
    parts = _SECTION.split(text)
    messages, openers = [], ("",)
    for role, body in zip(parts[1::2], parts[2::2]):
        role, body = role.lower(), body.strip("\n")
        if role == "openers":
            openers = tuple(w.strip() for w in body.split(",")) or ("",)
        elif role in _ROLES:
            messages.append((role, body))
        else:
            raise ConfigError(f"{source}: unknown section '### {role}'; allowed: openers, {', '.join(_ROLES)}")
    if not messages or all(r != "user" for r, _ in messages):
        raise ConfigError(f"{source}: a chat template needs at least one '### user' section")
    return ChatTemplate(tuple(messages), openers, source)


def load_metadata_templates(override: str | None = None) -> dict[str, list[str]]:
    """field -> question templates, from ``FIELD: template`` lines (``#`` starts a comment)."""
    text, source = _read("metadata", override)
    out: dict[str, list[str]] = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        field, sep, template = line.partition(":")
        if not sep or not template.strip():
            raise ConfigError(f"{source}:{n}: expected 'FIELD: template with {{title}}', got {line!r}")
        out.setdefault(field.strip(), []).append(template.strip())
    return out
