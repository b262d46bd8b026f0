"""Generation end to end: the bundled SmolLM2, the set folder, seeded reproducibility, resume, hostile replies."""

from __future__ import annotations

import json

import pytest

from scripted import scripted_question
from ragkit.data.jsonl import load_qrels, load_queries_jsonl
from ragkit.synth.config import SynthConfig
from ragkit.synth.generate import PROGRESS_LOG, generate_set, synthesize
from ragkit.synth.llm import LLMBackendError

LOCAL = {"name": "transformers", "device": "cpu", "max_new_tokens": 16, "batch_size": 8}
CHUNKS = {"name": "chars", "size": 300, "overlap": 50}


def _cfg(**kw) -> SynthConfig:
    return SynthConfig(**{"chunker": CHUNKS, "min_passage_chars": 100, "batch_size": 4, **kw})


def _remote(server, **kw) -> dict:
    return {"name": "openai", "base_url": server.url, "model": "m", "concurrency": 1, "max_retries": 0, **kw}


def test_local_model_writes_a_valid_set(small_docs, smol, tmp_path):
    cfg = _cfg(n=3, llm=LOCAL, styles={"factoid": 1, "metadata": 1}, max_candidates=5, seed=1)
    a = generate_set(small_docs, cfg, tmp_path / "a")
    files = {p.name for p in (tmp_path / "a").iterdir()}
    assert {"questions.jsonl", "qrels.jsonl", "gates.json", "ragkit.json", "rejected.jsonl", PROGRESS_LOG} <= files
    queries, qrels = load_queries_jsonl(tmp_path / "a/questions.jsonl"), load_qrels(tmp_path / "a/qrels.jsonl")
    assert [q.id for q in queries] == [q.id for q in a.queries] and len(qrels) == len(queries) >= 1
    docs = {d.id: d for d in small_docs}
    for q in queries:
        (j,) = qrels[q.id]
        m = q.metadata
        assert q.text.endswith("?") and m["source"] == "synthetic" and (j.doc_id, j.start, j.end) == (m["doc_id"], m["start"], m["end"])
        assert (j.start is None) == (m["style"] == "metadata")  # metadata questions are judged on the whole document
        if j.start is not None:
            assert 0 <= j.start < j.end <= len(docs[j.doc_id].text)
    gates = json.loads((tmp_path / "a/gates.json").read_text())
    assert gates["candidates"] == gates["kept"] + sum(gates["rejected"].values()) and gates["kept"] == len(queries)
    info = json.loads((tmp_path / "a/ragkit.json").read_text())
    assert info["kind"] == "synthetic_set" and info["schema_version"] == 1 and info["config"]["seed"] == 1


def test_same_seed_same_set_other_seed_other_set(small_docs, chat_server, tmp_path):
    chat_server.reply_fn = scripted_question  # deterministic per prompt, like greedy decoding (pinned in test_causal_lm)
    cfg = _cfg(n=4, llm=_remote(chat_server), styles={"factoid": 1, "paraphrase": 1, "metadata": 1}, gates={"max_leakage": None})
    for folder, seed in (("a", 3), ("b", 3), ("c", 4)):
        generate_set(small_docs, cfg.model_copy(update={"seed": seed}), tmp_path / folder)
    read = lambda f, name: (tmp_path / f / name).read_bytes()  # noqa: E731
    assert read("a", "questions.jsonl") == read("b", "questions.jsonl") and read("a", "qrels.jsonl") == read("b", "qrels.jsonl")
    assert read("a", "questions.jsonl") != read("c", "questions.jsonl")


def test_resume_after_the_endpoint_dies(small_docs, chat_server, tmp_path):
    chat_server.reply_fn = scripted_question
    cfg = _cfg(n=5, llm=_remote(chat_server), styles={"factoid": 1}, gates={"max_leakage": None, "dedup_cosine": None}, batch_size=2)
    whole = generate_set(small_docs, cfg, tmp_path / "whole")
    total = len(chat_server.requests)
    chat_server.reset()
    chat_server.reply_fn, chat_server.fail_after = scripted_question, 4
    with pytest.raises(LLMBackendError):
        generate_set(small_docs, cfg, tmp_path / "cut")  # batches 1-2 succeed, batch 3 fails
    assert len((tmp_path / "cut" / PROGRESS_LOG).read_text().splitlines()) == 4
    assert not (tmp_path / "cut" / "questions.jsonl").exists()
    chat_server.reset()
    chat_server.reply_fn = scripted_question
    resumed = generate_set(small_docs, cfg, tmp_path / "cut")
    assert len(chat_server.requests) == total - 4  # only what was missing was asked for
    assert [(q.id, q.text) for q in resumed.queries] == [(q.id, q.text) for q in whole.queries]
    assert (tmp_path / "cut/qrels.jsonl").read_bytes() == (tmp_path / "whole/qrels.jsonl").read_bytes()


def test_hostile_replies_are_rejected_and_counted(small_docs, chat_server, tmp_path):
    chat_server.replies = [
        "",                                                        # empty
        "x" * 300_000,                                             # huge, no question
        "\x00\x01\x02 binary \x7f?",                               # control characters
        "<html><body><h1>502 Bad Gateway</h1></body></html>",      # an error page
        "Sure! Here are questions:\n1. What is the deadline for booking flights?\n2. Who pays?",
        "What is?",                                                # too short
    ]
    cfg = _cfg(n=6, llm=_remote(chat_server), styles={"factoid": 1}, max_candidates=6, gates={"max_leakage": None})
    result = generate_set(small_docs, cfg, tmp_path / "s")
    g = result.gates
    assert g["candidates"] == 6 and g["kept"] == 1
    assert g["reasons"]["parse"] == {"empty": 1, "not a question": 2, "garbage": 1}
    assert g["rejected"]["length"] == 1
    assert [q.text for q in result.queries] == ["What is the deadline for booking flights?"]
    assert len(result.rejected) == 5 and all(len(r["raw"]) <= 500 for r in result.rejected)


def test_synthesize_caches_by_corpus_and_config(small_docs, chat_server, tmp_path, monkeypatch):
    monkeypatch.setenv("RAGKIT_CACHE_DIR", str(tmp_path / "cache"))
    chat_server.reply_fn = scripted_question
    cfg = _cfg(n=2, llm=_remote(chat_server), styles={"factoid": 1}, gates={"max_leakage": None, "dedup_cosine": None})
    first = synthesize(small_docs, cfg)
    asked = len(chat_server.requests)
    again = synthesize(small_docs, cfg)
    assert len(chat_server.requests) == asked and again.path == first.path  # from the cache, no request
    assert [q.text for q in again.queries] == [q.text for q in first.queries]
    other = synthesize(small_docs, cfg.model_copy(update={"seed": 9}))
    assert other.path != first.path
    assert synthesize(small_docs, SynthConfig(path=str(first.path))).path == first.path


def test_answerability_gate_asks_the_llm(small_docs, chat_server, tmp_path):
    def reply(body):
        last = body["messages"][-1]["content"] if body["messages"][-1]["role"] == "user" else body["messages"][-2]["content"]
        if "Can the question be answered" in last:
            return "Answer: No." if "flights" in last else "Yes, it can."
        return scripted_question(body)

    chat_server.reply_fn = reply
    cfg = _cfg(n=20, llm=_remote(chat_server), styles={"factoid": 1}, max_candidates=6,
               gates={"max_leakage": None, "dedup_cosine": None, "answerability": True})
    result = generate_set(small_docs, cfg, tmp_path / "s")
    asked = [b for b in chat_server.requests if "Can the question be answered" in json.dumps(b)]
    pairs = {(r["doc_id"], r["start"], r["text"]) for r in result.rejected} | {
        (q.metadata["doc_id"], q.metadata["start"], q.text) for q in result.queries}
    assert len(asked) == len(pairs) < 6  # one check per distinct (passage, question); a repeat reuses its answer
    assert result.gates["rejected"]["answerability"] == sum(r["doc_id"] == "travel.md" for r in result.rejected) >= 1
    assert result.queries and all(q.metadata["doc_id"] != "travel.md" for q in result.queries)


def test_a_custom_style_uses_its_own_template(small_docs, chat_server, tmp_path):
    template = tmp_path / "troubleshooting.txt"
    template.write_text('### openers\nHow do I\n### user\nWrite a troubleshooting question answered by:\n"""\n{passage}\n"""\n### assistant\n{opener}\n')
    chat_server.reply_fn = scripted_question
    cfg = _cfg(n=2, llm=_remote(chat_server), styles={"troubleshooting": 1}, prompts={"troubleshooting": str(template)},
               gates={"max_leakage": None})
    result = generate_set(small_docs, cfg, tmp_path / "s")
    assert [q.metadata["style"] for q in result.queries] == ["troubleshooting", "troubleshooting"]
    assert chat_server.requests[0]["messages"][0]["content"].startswith("Write a troubleshooting question")
