"""The lexical analyzer: text -> terms, shared by every lexical engine (BM25 and friends).

The pipeline is lowercase -> split on Unicode word characters -> (split snake_case
identifiers) -> (drop English stopwords) -> (Snowball English stem):

- **Split**: tokens are runs of ``\\w`` (the regex ``\\w+`` with ``re.UNICODE``): letters
  and digits of any script, and the underscore. Everything else separates tokens, so
  ``lf-err-4012`` gives ``lf``, ``err``, ``4012`` and ``v2.3`` gives ``v2``, ``3``. A query
  quoting the code matches all of its parts, and the rare parts (``4012``) dominate
  the BM25 score, so codes stay findable without a special token type.
- **Identifiers**: ``\\w`` includes ``_``, so ``flow.retry.max_backoff_ms`` gives
  ``flow``, ``retry`` and ``max_backoff_ms``. With ``split_identifiers`` (the default)
  a token holding an underscore also yields its parts, after the whole token:
  ``max_backoff_ms``, ``max``, ``backoff``, ``ms``. The whole token rewards an exact
  identifier match; the parts let "max backoff" find it.
- **Stopwords**: Lucene's English stop set (:data:`ENGLISH_STOPWORDS`, the list
  Pyserini's and Elasticsearch's English analyzers use), applied before stemming.
- **Stemming**: PyStemmer's Snowball ``english`` (Porter2) stemmer, applied to
  alphabetic tokens only (identifiers and codes with digits or ``_`` are kept as
  they are, so ``max_backoff_ms`` does not become ``max_backoff_m``). Stems are cached
  in a process-wide dict because corpora repeat words: each distinct word is
  stemmed once.

Example:
    >>> Analyzer(stem=False).analyze("LF-ERR-4012: set flow.retry.max_backoff_ms")
    ['lf', 'err', '4012', 'set', 'flow', 'retry', 'max_backoff_ms', 'max', 'backoff', 'ms']
    >>> Analyzer().analyze("The retries are running")
    ['retri', 'run']
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ragkit.errors import MissingDependencyError

_TOKEN = re.compile(r"\w+", re.UNICODE)

# Lucene's EnglishAnalyzer.ENGLISH_STOP_WORDS_SET (also Elasticsearch's ``_english_``).
# Kept short on purpose: a long list (NLTK's 179 words) removes words such as
# "not", "after", "before" that carry meaning in questions.
ENGLISH_STOPWORDS: frozenset[str] = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such "
    "that the their then there these they this to was will with".split()
)

# word -> stem; shared by every Analyzer in the process. Cleared when it grows past
# _STEM_CACHE_MAX entries so that a long-lived process cannot grow without bound.
_STEM_CACHE: dict[str, str] = {}
_STEM_CACHE_MAX = 2_000_000
_stemmer = None


def _get_stemmer():
    global _stemmer
    if _stemmer is None:
        try:
            import Stemmer
        except ImportError:
            raise MissingDependencyError(
                "stemming needs PyStemmer, which is not installed; run `pip install PyStemmer` "
                "or set stem: false"
            ) from None
        _stemmer = Stemmer.Stemmer("english")
    return _stemmer


def _stem_all(tokens: list[str]) -> list[str]:
    cache = _STEM_CACHE
    try:
        return [cache[t] for t in tokens]
    except KeyError:
        pass
    missing = {t for t in tokens if t not in cache}
    if len(cache) + len(missing) > _STEM_CACHE_MAX:
        cache.clear()
    # Only alphabetic words are stemmed: identifiers and codes (``max_backoff_ms``,
    # ``4012``, ``v2``) are kept verbatim, so an exact query for them matches.
    words = [t for t in missing if t.isalpha()]
    cache.update((t, t) for t in missing if not t.isalpha())
    cache.update(zip(words, _get_stemmer().stemWords(words)))
    return [cache[t] for t in tokens]


def _split_identifiers(tokens: list[str]) -> list[str]:
    out: list[str] = []
    for t in tokens:
        out.append(t)
        if "_" in t:
            parts = [p for p in t.split("_") if p]
            if len(parts) > 1 or (parts and parts[0] != t):
                out.extend(parts)
    return out


@dataclass(frozen=True)
class Analyzer:
    """Turns text into index terms; the same instance settings must analyze corpus and queries.

    The defaults are those of the ``bm25`` retriever, chosen on SciFact and NFCorpus
    (see :class:`ragkit.retrieval.bm25.BM25Retriever`).

    Args:
        stopwords: drop :data:`ENGLISH_STOPWORDS` (before stemming).
        stem: reduce words to their Snowball English stem (needs PyStemmer).
        split_identifiers: also emit the parts of ``snake_case`` tokens, after the whole token.

    Example:
        >>> Analyzer().analyze_many(["Cats chasing mice", ""])
        [['cat', 'chase', 'mice'], []]
    """

    stopwords: bool = True
    stem: bool = True
    split_identifiers: bool = True

    def __post_init__(self) -> None:
        if self.stem:
            _get_stemmer()  # fail at construction, not in the middle of indexing

    def analyze(self, text: str) -> list[str]:
        """The terms of ``text``, in order (duplicates kept: BM25 counts them)."""
        tokens = _TOKEN.findall(text.lower())
        if self.split_identifiers:
            tokens = _split_identifiers(tokens)
        if self.stopwords:
            tokens = [t for t in tokens if t not in ENGLISH_STOPWORDS]
        if self.stem:
            tokens = _stem_all(tokens)
        return tokens

    def analyze_many(self, texts: Iterable[str]) -> list[list[str]]:
        """:meth:`analyze` of each text."""
        return [self.analyze(t) for t in texts]
