from __future__ import annotations

import gzip

import pytest

from ragkit.data.beir import load_beir
from ragkit.data.folder import load_folder, split_front_matter
from ragkit.data.html_text import html_to_text
from ragkit.data.jsonl import check_qrels, load_documents_jsonl, load_qrels
from ragkit.data.types import Chunk, Judgment, Qrels, Query, Run, Hit
from ragkit.errors import DataValidationError


def write(path, text, mode="w"):
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode == "wb":
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")


def test_folder_front_matter_html_and_metadata(tmp_path):
    write(tmp_path / "a" / "pricing.md", "---\ntitle: Pricing\nauthor: Ana\nlast_modified: 2025-03-14\ntags: [a, b]\n---\n# Plans\r\nTeam costs $20.\r\n")
    write(tmp_path / "notes.txt", "plain text")
    write(tmp_path / "page.html", "<html><head><title>Page</title><script>alert(1)</script></head><body><p>Hello &lt;b&gt;</p></body></html>")
    write(tmp_path / "ignored.pdf", "x")
    docs = {d.id: d for d in load_folder(tmp_path)}
    assert sorted(docs) == ["a/pricing.md", "notes.txt", "page.html"]
    md = docs["a/pricing.md"]
    assert md.text == "# Plans\nTeam costs $20.\n"
    assert md.title == "Pricing"
    assert md.metadata["author"] == "Ana" and md.metadata["last_modified"] == "2025-03-14"
    assert md.metadata["tags"] == ["a", "b"] and md.metadata["file_name"] == "pricing.md"
    assert md.metadata["modified"].endswith("+00:00")
    assert docs["notes.txt"].title == "notes"
    assert docs["page.html"].text == "Hello <b>" and docs["page.html"].title == "Page"


def test_front_matter_errors_name_the_file():
    assert split_front_matter("no front matter", "f") == ({}, "no front matter")
    with pytest.raises(DataValidationError, match="f.md: front matter .* never closed"):
        split_front_matter("---\ntitle: x\n", "f.md")
    with pytest.raises(DataValidationError, match="f.md: invalid YAML"):
        split_front_matter("---\ntitle: [x\n---\nbody", "f.md")


def test_folder_bad_input_policy(tmp_path):
    write(tmp_path / "empty.md", "---\ntitle: E\n---\n   \n")
    write(tmp_path / "latin1.txt", "caf\xe9 au lait".encode("latin-1"), mode="wb")
    write(tmp_path / "good.md", "fine")
    with pytest.raises(DataValidationError) as err:
        load_folder(tmp_path)
    msg = str(err.value)
    assert "2 problem(s)" in msg and "empty.md: empty document" in msg and "latin1.txt: undecodable bytes" in msg
    docs = load_folder(tmp_path, on_error="warn")
    assert [d.id for d in docs] == ["good.md", "latin1.txt"]  # undecodable: repaired, empty: skipped
    assert "\ufffd" in docs[1].text
    with pytest.raises(DataValidationError, match="does not exist"):
        load_folder(tmp_path / "missing")


def test_jsonl_errors_name_file_and_line(tmp_path):
    p = tmp_path / "docs.jsonl"
    write(p, '{"id": "1", "text": "a"}\n{"id": "1", "text": "b"}\nnot json\n\n{"id": "3", "text": " "}\n{"_id": 4, "text": "c", "author": "x"}\n')
    with pytest.raises(DataValidationError) as err:
        load_documents_jsonl(p)
    msg = str(err.value)
    assert f"{p}:2: duplicate id" in msg and f"{p}:3: invalid JSON" in msg and f"{p}:5: empty text" in msg
    docs = load_documents_jsonl(p, on_error="warn")
    assert [d.id for d in docs] == ["1", "4"] and docs[1].metadata["author"] == "x"


def test_qrels_jsonl_spans_and_checks(tmp_path):
    p = tmp_path / "qrels.jsonl"
    write(p, '{"query_id": "q1", "doc_id": "d1", "start": 2, "end": 5, "grade": 2}\n{"query_id": "q1", "doc_id": "zz"}\n{"query_id": "q9", "doc_id": "d1"}\n')
    qrels = load_qrels(p)
    assert qrels["q1"][0] == Judgment("d1", 2, 2, 5)
    from ragkit.data.types import Document

    docs, queries = [Document("d1", "0123456789")], [Query("q1", "x")]
    with pytest.raises(DataValidationError, match="unknown document id"):
        check_qrels(qrels, queries, docs)
    kept = check_qrels(qrels, queries, docs, on_error="warn")
    assert list(kept) == ["q1"] and len(kept["q1"]) == 1


def test_beir_gz_crlf_header(tmp_path):
    root = tmp_path / "beir"
    (root / "qrels").mkdir(parents=True)
    with gzip.open(root / "corpus.jsonl.gz", "wt", encoding="utf-8", newline="") as f:
        f.write('{"_id": "d1", "title": "T1", "text": "alpha"}\r\n{"_id": "d2", "title": "", "text": "beta"}\r\n')
    write(root / "queries.jsonl", '{"_id": "q1", "text": "alpha?"}\r\n{"_id": "q2", "text": "unjudged"}\r\n')
    (root / "qrels" / "test.tsv").write_bytes(b"query-id\tcorpus-id\tscore\r\nq1\td1\t1\r\n")
    docs, queries, qrels = load_beir(root)
    assert [d.text for d in docs] == ["T1\nalpha", "beta"] and docs[0].metadata["title"] == "T1"
    assert [q.id for q in queries] == ["q1"] and qrels.doc_level() == {"q1": {"d1": 1}}
    with pytest.raises(DataValidationError, match="available splits: \\['test'\\]"):
        load_beir(root, "dev")


def test_html_to_text_drops_scripts():
    assert html_to_text("<p>a</p><style>p{}</style><div>b</div>") == ("", "a\n\nb")


def test_judgment_overlap_is_half_open():
    j = Judgment("d", 1, 10, 20)
    mk = lambda s, e: Chunk("c", "d", "", s, e)
    assert j.overlaps(mk(0, 11)) and j.overlaps(mk(19, 30))
    assert not j.overlaps(mk(0, 10)) and not j.overlaps(mk(20, 30))
    assert Judgment("d").overlaps(mk(0, 1)) and not Judgment("e").overlaps(mk(0, 1))
    with pytest.raises(DataValidationError):
        Judgment("d", 1, 5, 5)


def test_qrels_chunk_level_and_run_doc_collapse():
    chunks = [Chunk("d#0", "d", "", 0, 10), Chunk("d#1", "d", "", 8, 20), Chunk("e#0", "e", "", 0, 5)]
    qrels = Qrels({"q": [Judgment("d", 2, 12, 15), Judgment("e", 1), Judgment("d", 0, 0, 3)]})
    assert qrels.chunk_level(chunks) == {"q": {"d#1": 2, "e#0": 1}}
    run = Run({"q": [Hit("d#0", "d", 0.5), Hit("e#0", "e", 0.7), Hit("d#1", "d", 0.9)]})
    assert [(h.chunk_id, h.score) for h in run.doc_run()["q"]] == [("d", 0.9), ("e", 0.7)]
    assert Run.from_frame(run.to_frame()).to_dict() == run.to_dict()


def test_run_tie_break_is_by_chunk_id():
    run = Run({"q": [Hit("b", "d", 1.0), Hit("a", "d", 1.0), Hit("c", "d", 2.0)]})
    assert [h.chunk_id for h in run["q"]] == ["c", "a", "b"]
