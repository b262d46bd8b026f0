"""LLM reply -> one clean question, or the reason there is none (the parsing gate).

Small models wrap their question in numbering, ``Question:`` prefixes, quotes, markdown
or HTML, add an answer after it, write several questions, or write no question at all.
:func:`parse_question` keeps the first well-formed question and names what went wrong
otherwise; it never raises, whatever bytes it is given.

Example:
    >>> parse_question('1. **Question:** "What is the SLA for Enterprise?" Answer: 99.95%').text
    'What is the SLA for Enterprise?'
    >>> parse_question("The passage describes the pricing.").reason
    'not a question'
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

MAX_REPLY_CHARS = 4000  # a reply longer than this is cut before parsing (a question is never that long)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
_TAG = re.compile(r"<\s*(script|style)\b.*?<\s*/\s*\1\s*>|<[a-zA-Z!/][^<>]*>", re.S | re.I)
_BULLET = re.compile(r"^\s*(?:[-*\u2022>#]+|\(?\d+[.):]|\(?[a-z][.)])\s+", re.I)
_PREFIX = re.compile(r"^\s*(?:\*\*|__)?\s*(?:synthetic\s+)?(?:question|query|q)\s*\d*\s*(?:\*\*|__)?\s*[:.)\-]\s*(?:\*\*|__)?\s*", re.I)
_ASKING = r"(?:what|which|who|whom|whose|when|where|why|how|is|are|was|were|can|could|do|does|did|should|would|will|may|must|has|have)\b"
_LEAD_IN = re.compile(rf"(?<=[.!:])\s+(?={_ASKING})", re.I)
_QUOTES = "\"'`\u201c\u201d\u2018\u2019\u00ab\u00bb*_ "
_SELF_REFERENCE = re.compile(
    r"\b(?:the|this|above|given|following)\s+(?:passage|text|excerpt|paragraph|snippet|context)\b|\bof the following\b", re.I
)


@dataclass(frozen=True)
class Parsed:
    """A question (``text``) or, when ``text`` is None, why the reply holds none (``reason``)."""

    text: str | None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.text is not None


def _clean_line(line: str) -> str:
    line = line.strip()
    for _ in range(3):  # "1. Question: **...**" needs several passes
        before = line
        line = _BULLET.sub("", line)
        line = _PREFIX.sub("", line)
        line = line.strip(_QUOTES)
        if line == before:
            break
    return " ".join(line.split())


def _first_question(text: str) -> str | None:
    for line in text.splitlines():
        line = _clean_line(line)
        cut = line.find("?")
        if cut < 0:
            continue
        question = _clean_line(line[: cut + 1])
        # "Answer: yes. Is X...?" / "Here is one: What ...?" -> keep the sentence that asks
        question = _LEAD_IN.split(question)[-1].strip(_QUOTES)
        if question.rstrip("?").strip():
            return question if question.endswith("?") else question + "?"
    return None


def parse_question(reply: object, prefill: str = "") -> Parsed:
    """The first question in ``prefill + reply`` (``prefill``: text the reply was asked to continue).

    Reasons for rejection: ``empty``, ``garbage`` (control or undecodable characters),
    ``not a question`` (no sentence ending in '?'), ``refers to the passage`` ("according
    to the passage, ..." cannot be asked without the passage).
    """
    if not isinstance(reply, str):
        reply = reply.decode("utf-8", "replace") if isinstance(reply, (bytes, bytearray)) else ""
    text = (prefill + reply)[:MAX_REPLY_CHARS]
    if not reply.strip():
        return Parsed(None, "empty")
    if _CONTROL.search(text):
        return Parsed(None, "garbage")
    if "<" in text:
        text = html.unescape(_TAG.sub(" ", text))
    question = _first_question(text)
    if question is None:
        return Parsed(None, "not a question")
    if not question[0].isalnum():
        return Parsed(None, "not a question")
    if _SELF_REFERENCE.search(question):
        return Parsed(None, "refers to the passage")
    return Parsed(question[0].upper() + question[1:])
