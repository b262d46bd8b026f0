"""Golden sections, heading paths, prefixes and code fences for the ``markdown`` chunker."""

from __future__ import annotations

import pytest

from ragkit.chunking.markdown import MarkdownChunker, split_sections
from ragkit.data.types import Document
from ragkit.errors import ConfigError
from ragkit.registry import CHUNKERS

TEXT = (
    "Intro line.\n\n"  # 0-12
    "# Travel Policy\n"  # 13-28
    "Rules.\n\n"  # 29-36
    "## Booking\n"  # 37-47
    "```\n# not a heading\n```\n"  # 48-71
    "### Flights\n"  # 72-83
    "Economy only.\n"  # 84-97
    "#### Deep\n"  # 98-107
    "still flights\n"  # 108-121
    "## Hotels\n"  # 122-131
    "Max 3 nights.\n"  # 132-145
)


def test_golden_sections():
    chunks = MarkdownChunker().chunk(Document("policy", TEXT, metadata={"source": "p.md"}))
    assert [(c.start, c.end) for c in chunks] == [(0, 11), (13, 35), (37, 71), (72, 121), (122, 145)]
    assert [c.metadata["heading_path"] for c in chunks] == [
        [],
        ["Travel Policy"],
        ["Travel Policy", "Booking"],
        ["Travel Policy", "Booking", "Flights"],  # "#### Deep" is below max_level=3
        ["Travel Policy", "Hotels"],
    ]
    assert [c.prefix for c in chunks] == [
        "",
        "Travel Policy",
        "Travel Policy > Booking",
        "Travel Policy > Booking > Flights",
        "Travel Policy > Hotels",
    ]
    flights = chunks[3]
    assert flights.text.startswith("### Flights\n") and "#### Deep" in flights.text
    assert flights.indexed_text == "Travel Policy > Booking > Flights\n" + flights.text
    assert all(c.metadata["source"] == "p.md" for c in chunks)


def test_code_fences_hide_headings():
    text = "# A\n~~~\n# x\n```\n# y\n~~~\n# B\n````md\n# z\n```\n# still code\n````\nafter"
    paths = [s.heading_path for s in split_sections(text)]
    assert paths == [("A",), ("B",)]
    # an unclosed fence runs to the end of the document
    assert [s.heading_path for s in split_sections("# A\n```\n# B\n")] == [("A",)]
    # "```x```" on a line is inline code, not a fence
    assert [s.heading_path for s in split_sections("# A\n```x```\n# B\n")] == [("A",), ("B",)]


def test_heading_syntax():
    text = "#NotAHeading\n    # indented code\n  ## Two ##\n#\n###### Six\n"
    assert [s.heading_path for s in split_sections(text, max_level=6)] == [
        (),
        ("Two",),
        ("",),
        ("", "Six"),
    ]


def test_max_level_and_prefix_off():
    chunker = MarkdownChunker(max_level=1, prefix_headings=False)
    chunks = chunker.chunk(Document("d", TEXT))
    assert [c.metadata["heading_path"] for c in chunks] == [[], ["Travel Policy"]]
    assert all(c.prefix == "" for c in chunks)


def test_long_section_is_sub_split_keeping_its_path():
    body = " ".join(f"word{i}" for i in range(60))  # 409 characters
    text = "# Guide\n## Setup\n" + body
    chunks = MarkdownChunker(size=100, overlap=20).chunk(Document("d", text))
    assert chunks[0].text == "# Guide"
    rest = chunks[1:]
    assert len(rest) > 4 and all(len(c.text) <= 100 for c in rest)
    assert rest[0].text.startswith("## Setup")
    assert all(c.metadata["heading_path"] == ["Guide", "Setup"] for c in rest)
    assert all(a.end > b.start for a, b in zip(rest, rest[1:])), "pieces of one section overlap"


def test_min_size_merges_forward():
    text = "# A\n## B\ntext of b\n## C\ntext of c\n# D\nd"
    plain = MarkdownChunker().chunk(Document("d", text))
    assert [c.text for c in plain] == ["# A", "## B\ntext of b", "## C\ntext of c", "# D\nd"]
    merged = MarkdownChunker(min_size=10).chunk(Document("d", text))
    # "# A" (3 chars) merges into B, its child: the path is B's. "# D\nd" is last: it stays.
    assert [c.text for c in merged] == ["# A\n## B\ntext of b", "## C\ntext of c", "# D\nd"]
    assert [c.metadata["heading_path"] for c in merged] == [["A", "B"], ["A", "C"], ["D"]]
    # siblings merged: the common part of their paths
    merged = MarkdownChunker(min_size=20).chunk(Document("d", text))
    assert merged[0].text == "# A\n## B\ntext of b\n## C\ntext of c"
    assert merged[0].metadata["heading_path"] == ["A"]


def test_empty_document_and_no_headings():
    assert MarkdownChunker().chunk(Document("d", "\n\n")) == []
    (only,) = MarkdownChunker().chunk(Document("d", "plain text\n"))
    assert only.metadata["heading_path"] == [] and only.prefix == "" and only.text == "plain text"


def test_registry_and_defaults():
    chunker = CHUNKERS.create("markdown")
    assert isinstance(chunker, MarkdownChunker)
    assert chunker.config_dict() == {
        "size": 1200, "overlap": 200, "max_level": 3, "prefix_headings": True, "min_size": 0,
    }


@pytest.mark.parametrize(
    "params,match",
    [
        ({"size": 100, "overlap": 100}, "overlap=100 must be smaller than size=100"),
        ({"max_level": 7}, "max_level"),
        ({"max_level": 0}, "max_level"),
        ({"min_size": 2000}, "min_size=2000 must not exceed size=1200"),
    ],
)
def test_config_errors(params, match):
    with pytest.raises(ConfigError, match=match):
        MarkdownChunker(**params)
