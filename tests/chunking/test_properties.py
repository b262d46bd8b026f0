"""Property tests shared by every chunker: exact offsets, full coverage, size limits, order, overlap."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ragkit.chunking.boundaries import slack_for
from ragkit.chunking.chars import CharChunker
from ragkit.chunking.markdown import MarkdownChunker
from ragkit.chunking.sentences import SentenceChunker, split_sentences
from ragkit.chunking.tokens import TokenChunker
from ragkit.data.types import Document

PROPS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_FIXED = st.sampled_from(
    [
        " ", " ", " ", "  ", "\t", "\n", "\n", "\n\n", "\n \n", "\r\n",
        ".", ". ", "! ", "? ", ", ", "...", ")", "(", '"', "…",
        "e.g. ", "Dr. ", "v1.2", "3.14", "J. ", "U.S. ", "etc. ",
        "\n# Title\n", "\n## Sub section\n", "\n### Flights\n", "\n#### Deep\n", "# ", "#nohash",
        "\n```\n", "\n```python\n", "\n~~~\n", "```",
        "naïve ", "日本語", "😀", "Ünïcödé ", "e\u0301", "\u200b", "\x07", "\u00a0", "\u3000",
        "https://example.com/a/very/long/path?query=1&x=2 ",
    ]
)
_WORD = st.text(st.characters(categories=["Ll", "Lu", "Nd"], max_codepoint=0x24F), min_size=1, max_size=12)
_LONG = st.text(st.sampled_from("abcxyz0123/_-."), min_size=30, max_size=150)
_SEP = st.sampled_from([" ", " ", " ", ". ", ", ", "? ", "\n", "\n\n", " e.g. ", "\n## Part\n", "\n```\n"])
_PROSE = st.lists(st.tuples(_WORD, _SEP).map("".join), max_size=60).map("".join)
TEXTS = st.one_of(
    _PROSE,  # words and sentences: overlap and boundary preferences are exercised
    st.lists(st.one_of(_FIXED, _WORD, _WORD.map(lambda w: w + " "), _LONG), max_size=80).map("".join),
    st.text(max_size=200),  # anything at all
)


def _non_ws_covered(text: str, chunks) -> bool:
    covered = bytearray(len(text))
    for c in chunks:
        covered[c.start : c.end] = b"\x01" * (c.end - c.start)
    return all(covered[i] or ch.isspace() for i, ch in enumerate(text))


def check_common(chunker, text: str, max_len=None):
    """The contract of every chunker; returns the chunks for chunker-specific checks."""
    doc = Document("doc", text, metadata={"source": "x.md"})
    chunks = chunker.chunk(doc)
    if not text.strip():
        assert chunks == []
    for i, c in enumerate(chunks):
        assert c.id == f"doc#{i}" and c.doc_id == "doc"
        assert text[c.start : c.end] == c.text
        assert c.text.strip() == c.text and c.text, "no empty chunk, no surrounding whitespace"
        assert c.metadata["source"] == "x.md"
        if max_len is not None:
            assert len(c.text) <= max_len
    assert _non_ws_covered(text, chunks)
    for a, b in zip(chunks, chunks[1:]):
        assert a.start < b.start and a.end < b.end
    return chunks


def _word_starts(text: str, lo: int, hi: int) -> bool:
    return any(0 < i < len(text) and not text[i].isspace() and text[i - 1].isspace() for i in range(lo, hi + 1))


def check_char_overlap(text: str, chunks, size: int, overlap: int):
    """Consecutive windows overlap by ``overlap`` +- slack, except in the documented cases."""
    slack = slack_for(size)
    for a, b in zip(chunks, chunks[1:]):
        got = a.end - b.start
        assert got <= overlap + slack
        if overlap == 0:
            assert got <= 0
        p = a.end - overlap
        resume = a.end + len(text[a.end :]) - len(text[a.end :].lstrip())
        short = a.end - a.start <= overlap + slack or overlap + slack >= size
        no_word_start = not _word_starts(text, p - slack, p + slack)
        restarted = b.start == resume and not any(ch.isspace() for ch in text[resume : p - slack + size])
        if not (short or no_word_start or restarted):
            assert abs(b.start - p) <= slack, (a, b)


@pytest.mark.parametrize("size,overlap", [(40, 10), (40, 0), (7, 3), (100, 30), (20, 19)])
@PROPS
@given(text=TEXTS)
def test_chars_properties(size, overlap, text):
    chunks = check_common(CharChunker(size=size, overlap=overlap), text, max_len=size)
    check_char_overlap(text, chunks, size, overlap)


@pytest.mark.parametrize("size,n", [(40, 0), (40, 2), (100, 1), (5, 1)])
@PROPS
@given(text=TEXTS)
def test_sentences_properties(size, n, text):
    chunker = SentenceChunker(size=size, overlap_sentences=n)
    chunks = check_common(chunker, text, max_len=size)
    units = chunker.units(text)
    starts, ends = {s for s, _ in units}, {e for _, e in units}
    for c in chunks:
        assert c.start in starts and c.end in ends, "chunks are made of whole units"
    for a, b in zip(chunks, chunks[1:]):
        repeated = [u for u in units if b.start <= u[0] and u[1] <= a.end]
        assert len(repeated) <= n
        if n == 0:
            assert b.start >= a.end
    # the splitter alone: sentences partition the non-whitespace text, in order
    sents = split_sentences(text)
    assert all(s < e and text[s:e].strip() == text[s:e] for s, e in sents)
    assert all(e1 <= s2 for (_, e1), (s2, _) in zip(sents, sents[1:]))


@pytest.mark.parametrize(
    "params",
    [
        {"size": 60, "overlap": 15},
        {"size": 40, "overlap": 10, "min_size": 20, "max_level": 6},
        {"size": 200, "overlap": 0, "prefix_headings": False, "max_level": 1},
    ],
)
@PROPS
@given(text=TEXTS)
def test_markdown_properties(params, text):
    chunker = MarkdownChunker(**params)
    chunks = check_common(chunker, text, max_len=params["size"])
    sections = chunker.sections(text)
    owner = []
    for c in chunks:
        (sec,) = [s for s in sections if s.start <= c.start and c.end <= s.end]
        owner.append(sec)
        assert c.metadata["heading_path"] == list(sec.heading_path)
        want = " > ".join(sec.heading_path) if params.get("prefix_headings", True) else ""
        assert c.prefix == want
        assert c.indexed_text == (f"{want}\n{c.text}" if want else c.text)
    for i, sec in enumerate(sections):
        mine = [c for c, s in zip(chunks, owner) if s == sec]
        assert mine, "every section gives at least one chunk"
        check_char_overlap(text, mine, params["size"], params["overlap"])
        if i:
            assert sections[i - 1].end <= sec.start


@pytest.fixture(scope="module")
def tokenizer():
    return TokenChunker().tokenizer


@pytest.mark.parametrize("window,overlap", [(12, 3), (16, 0), (24, 8)])
@PROPS
@given(text=TEXTS)
def test_tokens_properties(tokenizer, window, overlap, text):
    chunker = TokenChunker(window=window, overlap=overlap)
    chunks = check_common(chunker, text)
    if not chunks:
        return
    counts = [len(ids) for ids in tokenizer([c.text for c in chunks], add_special_tokens=True)["input_ids"]]
    assert max(counts) <= window
    offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    slack, starts = chunker.slack, [s for s, _ in offsets]

    def after_space(j):
        return 0 < j < len(offsets) and any(ch.isspace() for ch in text[offsets[j - 1][1] : starts[j]])

    for a, b in zip(chunks, chunks[1:]):
        shared = sum(1 for s, e in offsets if b.start <= s and e <= a.end)
        assert shared <= overlap + slack
        if overlap == 0:
            assert shared == 0
        # lower bound, in tokens, with the same exceptions as for characters
        a_first = min(j for j, s in enumerate(starts) if s >= a.start)
        a_stop = next((j for j, s in enumerate(starts) if s >= a.end), len(starts))
        p = a_stop - overlap
        short = a_stop - a_first <= overlap + slack or overlap + slack >= chunker.budget
        no_word_start = not any(after_space(j) for j in range(p - slack, p + slack + 1))
        restarted = b.start == starts[a_stop]
        if not (short or no_word_start or restarted):
            assert overlap - slack <= shared, (a, b)
