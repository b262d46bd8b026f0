"""Content gaps and capability gaps: why a question fails, decided from evidence.

*Capability gap*: the question asks for document **metadata** (who wrote / owns /
last updated a document, when, which department, which tags, which file), which
content retrieval cannot answer even when the document is found. Detected from the
question's wording (:data:`INTENTS`) and kept only when the corpus has a matching
metadata field (:data:`FIELDS`): asking "who owns X" of a corpus without an owner
field is not a capability the system lacks, the answer is nowhere.

*Content gap*: the corpus has nothing close. A question is *uncovered* when its best
cosine against every chunk of the corpus (shared encoder) is low **relative to the
other questions** and some of its words never occur in the corpus:

- ``missing`` = content words (not stop words) absent from the corpus vocabulary and
  not a plural or a likely misspelling of a corpus word (same first letter,
  ``difflib`` ratio >= 0.85), so typos such as "conector timout" are not gaps;
- uncovered when ``missing >= 1`` and ``cosine < median - 2 * 1.4826 * MAD``
  (a robust z-score below -2), or when at least half of the content words are
  missing and ``cosine < median`` (median and MAD over all analysed questions).

Absolute cosines depend on the model and on query length, hence the calibration
against the questions' own distribution. A question with relevance labels is never a
content gap (its labels point at a document that answers it). A topic takes the gap type
that at least half of its questions share (capability first), with the evidence that
decided it.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["INTENTS", "FIELDS", "CorpusVocabulary", "encoder_dictionary", "metadata_intents", "metadata_fields",
           "QuestionGaps", "question_gaps", "topic_gap"]

_W = r"[\w'-]+"
INTENTS: dict[str, tuple[str, ...]] = {
    "author": (
        rf"\bwho (?:{_W} )?(?:wrote|writes|authored|created|maintains?|edited|updated|modified)\b",
        r"\bauthor(?:s|ed)?\b",
        r"\b(?:written|authored|created|maintained) by\b",
        r"\bby whom\b",
        r"\b(?:docs?|documents?|pages?|articles?|files?|policies|runbooks?|notes)\b (?:written |authored )?by\b",
        rf"\bdid {_W}(?: {_W})? (?:write|author|create)\b",
    ),
    "owner": (
        r"\bwho owns?\b",
        rf"\bowners? of (?:the |this |that )?(?:{_W} )?"
        r"(?:docs?|documents?|pages?|policy|policies|runbooks?|files?|articles?|handbook|faq)\b",
        r"\b(?:which|what) (?:team|department|group|person|email|address|org|organi[sz]ation)\b[^?.]*\bowns?\b",
    ),
    "date": (
        r"\bwhen (?:was|were|did)\b[^?.]*\b(?:updated|modified|changed|edited|written|created|published|revised)\b",
        r"\blast (?:updated|modified|changed|edited|revised)\b",
        r"\b(?:latest|newest|most recent|current) version of\b",
        r"\b(?:updated|modified|changed|edited) most recently\b",
        r"\bmost recently (?:updated|modified|changed|edited)\b",
    ),
    "department": (r"\bwhich (?:department|dept)\b",),
    "tags": (r"\btagged\b", r"\b(?:tags?|labels?) (?:of|for|on)\b"),
    "file": (r"\bfile ?names?\b", r"\bwhich file\b", r"\bfile path\b"),
}
_COMPILED = {k: [re.compile(p, re.I) for p in v] for k, v in INTENTS.items()}

# metadata keys that can answer each intent (lower-case; a key matches when it equals or contains one)
FIELDS: dict[str, tuple[str, ...]] = {
    "author": ("author", "creator", "created_by", "writer", "maintainer", "updated_by", "modified_by"),
    "owner": ("owner", "maintainer", "department", "team", "contact"),
    "date": ("last_modified", "modified", "updated", "date", "created", "published", "version"),
    "department": ("department", "team", "division", "org"),
    "tags": ("tags", "labels", "categories", "keywords"),
    "file": ("file_name", "filename", "path", "source"),
}

_TOKEN = re.compile(r"[^\W_]+(?:-[^\W_]+)*", re.UNICODE)


def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def metadata_intents(text: str) -> list[str]:
    """The metadata a question asks for, from its wording.

    Example:
        >>> metadata_intents("Who wrote the travel policy?")
        ['author']
        >>> metadata_intents("When was the on-call handbook last modified?")
        ['date']
        >>> metadata_intents("How do I rotate signing keys?")
        []
    """
    return [k for k, pats in _COMPILED.items() if any(p.search(text) for p in pats)]


def metadata_fields(docs: Iterable) -> Counter:
    """How many documents carry each metadata key (empty values not counted)."""
    counts: Counter = Counter()
    for d in docs:
        counts.update(k for k, v in d.metadata.items() if v not in (None, "", [], {}))
    return counts


def _fields_for(intent: str, fields: Iterable[str]) -> list[str]:
    keys = FIELDS.get(intent, ())
    return sorted(f for f in fields if any(k == f.lower() or k in f.lower() for k in keys))


class CorpusVocabulary:
    """The words of a corpus, to tell words it never uses from plurals and typos of words it does.

    ``dictionary``: real words that are never taken for typos ("pot" is not a misspelling of
    "post"); :func:`encoder_dictionary` gives the encoder vocabulary's whole words.

    Example:
        >>> v = CorpusVocabulary(["Connector timeouts are retried.", "Invoices are monthly."])
        >>> v.missing("conector timout for invoice")
        []
        >>> v.missing("visa sponsorship")
        ['visa', 'sponsorship']
    """

    def __init__(self, texts: Iterable[str], dictionary: Iterable[str] = ()) -> None:
        self.dictionary = frozenset(dictionary)  # real words, never "misspellings" (e.g. the encoder's whole words)
        self.words: set[str] = set()
        for t in texts:
            for tok in _TOKEN.findall(t.lower()):
                self.words.add(tok)
                if "-" in tok:  # "re-authorise": also "reauthorise", "re", "authorise"
                    self.words.add(tok.replace("-", ""))
                    self.words.update(tok.split("-"))
        self._by_initial: dict[str, list[str]] = {}
        for w in self.words:
            self._by_initial.setdefault(w[0], []).append(w)
        self._stop = _stop_words()

    def content_words(self, text: str) -> list[str]:
        toks = []
        for tok in _TOKEN.findall(text.lower()):
            toks += [tok] if tok in self.words else tok.split("-")
        return [t for t in dict.fromkeys(toks) if t and t not in self._stop]

    def correction(self, word: str) -> str | None:
        """The corpus word ``word`` is likely a misspelling of: not a known real word, alphabetic, same first
        letter, not shorter (typos mostly drop or swap letters: "conector", "timout", "invocie"), ratio >= 0.85."""
        if len(word) < 3 or not word.isalpha() or word in self.dictionary:
            return None
        near = [w for w in self._by_initial.get(word[0], ()) if len(word) <= len(w) <= len(word) + 2]
        close = difflib.get_close_matches(word, near, n=1, cutoff=0.85)
        return close[0] if close else None

    def known(self, word: str) -> bool:
        """In the corpus, as a plural / singular of a corpus word, or as a likely misspelling of one."""
        return self.exact(word) or self.correction(word) is not None

    def exact(self, word: str) -> bool:
        """In the corpus, or a plural / singular of a corpus word."""
        return word in self.words or (word.endswith("s") and word[:-1] in self.words) or word + "s" in self.words

    def missing(self, text: str) -> list[str]:
        """Content words of ``text`` that the corpus never uses."""
        return [w for w in self.content_words(text) if not self.known(w)]


def encoder_dictionary(tokenizer) -> set[str]:
    """Whole alphabetic words of a word-piece vocabulary (pieces without the ``##`` continuation mark)."""
    return {w for w in tokenizer.get_vocab() if w.isalpha() and w.islower()}


@dataclass
class QuestionGaps:
    """Per-question evidence: metadata intents, corpus cosine, missing words, and the flag."""

    intents: list[list[str]]  # metadata the question asks for (only intents the corpus has fields for)
    missing: list[list[str]]  # content words the corpus never uses
    typos: list[list[str]]  # "word->correction" for likely misspellings of corpus words
    n_words: list[int]  # content words per question
    corpus_cosine: np.ndarray  # best cosine vs every chunk (NaN when not computed)
    gap: list[str]  # capability | content | none
    median: float  # median corpus cosine over all questions
    low: float  # robust low threshold: median - 2 * 1.4826 * MAD
    fields: list[str]  # corpus metadata keys that can answer the detected intents


def question_gaps(
    texts: Sequence[str],
    corpus_cosine: np.ndarray | None,
    vocabulary: CorpusVocabulary | None,
    fields: Mapping[str, int] | None,
    labelled: Sequence[bool] | None = None,
) -> QuestionGaps:
    """Flag each question as a capability gap, a content gap, or neither (see the module docstring).

    ``labelled``: questions with relevance labels; their labels point at a corpus document
    that answers them, so they are never content gaps.
    """
    n = len(texts)
    cos = np.full(n, np.nan) if corpus_cosine is None else np.asarray(corpus_cosine, dtype=float)
    finite = cos[np.isfinite(cos)]
    median = float(np.median(finite)) if len(finite) else float("nan")
    mad = float(np.median(np.abs(finite - median))) if len(finite) else float("nan")
    low = median - 2.0 * 1.4826 * mad
    known_fields = list(fields or {})
    intents, missing, typos, n_words, gap, used = [], [], [], [], [], set()
    for i, text in enumerate(texts):
        asked = [k for k in metadata_intents(text) if _fields_for(k, known_fields)]
        used.update(f for k in asked for f in _fields_for(k, known_fields))
        words = vocabulary.content_words(text) if vocabulary else []
        unknown = [w for w in words if not vocabulary.exact(w)] if vocabulary else []
        fixes = {w: vocabulary.correction(w) for w in unknown}
        miss = [w for w in unknown if fixes[w] is None]
        intents.append(asked)
        missing.append(miss)
        typos.append([f"{w}->{c}" for w, c in fixes.items() if c])
        n_words.append(len(words))
        uncovered = bool(miss) and np.isfinite(cos[i]) and not (labelled is not None and labelled[i]) and (
            cos[i] < low or (2 * len(miss) >= len(words) and cos[i] < median)
        )
        gap.append("capability" if asked else "content" if uncovered else "none")
    return QuestionGaps(intents, missing, typos, n_words, cos, gap, median, low, sorted(used))


def _capability_evidence(idx: Sequence[int], g: QuestionGaps) -> str:
    asked = [i for i in idx if g.intents[i]]
    kinds = Counter(k for i in asked for k in g.intents[i])
    parts = ", ".join(f"{k} {c}" for k, c in kinds.most_common())
    return (
        f"{len(asked)}/{len(idx)} questions ask for document metadata ({parts}); "
        f"corpus metadata has {', '.join(g.fields) or 'no matching field'}"
    )


def _content_evidence(idx: Sequence[int], g: QuestionGaps) -> str:
    cos = g.corpus_cosine[list(idx)]
    miss = Counter(w for i in idx for w in g.missing[i])
    words = sum(g.n_words[i] for i in idx)
    flagged = sum(g.gap[i] == "content" for i in idx)
    text = f"{flagged}/{len(idx)} questions not covered"
    if np.isfinite(cos).any():
        text += f": best corpus cosine {np.nanmean(cos):.2f} vs median {g.median:.2f} over all questions"
        text += f" (low < {g.low:.2f})"
    if miss:
        shown = ", ".join(w for w, _ in miss.most_common(6))
        text += f"; {sum(miss.values())}/{words} content words never occur in the corpus: {shown}"
    return text


def topic_gap(idx: Sequence[int], g: QuestionGaps) -> tuple[str, str]:
    """(gap type, evidence) of the topic made of questions ``idx``: the flag at least half of them share."""
    n = len(idx)
    if n == 0:
        return "none", "no questions"
    n_cap = sum(g.gap[i] == "capability" for i in idx)
    n_content = sum(g.gap[i] == "content" for i in idx)
    if 2 * n_cap >= n:
        return "capability", _capability_evidence(idx, g)
    if 2 * n_content >= n:
        return "content", _content_evidence(idx, g)
    cos = g.corpus_cosine[list(idx)]
    bits = []
    if np.isfinite(cos).any():
        bits.append(f"covered: best corpus cosine {np.nanmean(cos):.2f} vs median {g.median:.2f}")
    if n_cap:
        bits.append(f"{n_cap}/{n} ask for metadata")
    if n_content:
        bits.append(f"{n_content}/{n} not covered")
    typos = [t for i in idx for t in g.typos[i]]
    if typos:
        bits.append(f"likely misspellings: {', '.join(dict.fromkeys(typos[:5]))}")
    return "none", "; ".join(bits) or "no gap evidence (no corpus to compare with)"
