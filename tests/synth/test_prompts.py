"""Prompt templates: packaged files, overrides by path, one-pass placeholder filling, clear errors."""

from __future__ import annotations

import pytest

from ragkit.errors import ConfigError
from ragkit.synth.config import SynthConfig
from ragkit.synth.prompts import load_chat_template, load_metadata_templates


@pytest.mark.parametrize("name", ["factoid", "paraphrase", "keyword", "answerable"])
def test_packaged_templates_load(name):
    t = load_chat_template(name)
    assert t.messages[-1][0] == "assistant" and any(r == "user" for r, _ in t.messages)


def test_render_fills_placeholders_once_and_drops_an_empty_prefill():
    t = load_chat_template("factoid")
    msgs = t.render(passage="costs {opener} 10 {x}", opener="")
    assert msgs[-1]["role"] == "user" and "costs {opener} 10 {x}" in msgs[-1]["content"]  # a value is never re-read
    assert t.render(passage="p", opener="Who")[-1] == {"role": "assistant", "content": "Who"}
    assert t.examples == ["When is the office closed?"]


def test_override_by_path(tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text("### openers\nHow, Why\n### system\nBe brief.\n### user\nAsk about: {passage}\n### assistant\n{opener}\n")
    t = load_chat_template("factoid", str(path))
    assert t.openers == ("How", "Why")
    assert t.render(passage="refunds", opener="How") == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Ask about: refunds"},
        {"role": "assistant", "content": "How"},
    ]


def test_bad_templates_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_chat_template("factoid", str(tmp_path / "missing.txt"))
    bad = tmp_path / "bad.txt"
    bad.write_text("### narrator\nhello\n")
    with pytest.raises(ConfigError, match="unknown section '### narrator'"):
        load_chat_template("factoid", str(bad))
    meta = tmp_path / "meta.txt"
    meta.write_text("author Who wrote {title}?\n")
    with pytest.raises(ConfigError, match=r"meta.txt:1"):
        load_metadata_templates(str(meta))


def test_config_errors_name_field_and_fix():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="Did you mean 'openai'"):
        SynthConfig(llm={"name": "openia"})
    with pytest.raises(ValidationError, match="built-in: factoid, paraphrase.*Did you mean 'factoid'"):
        SynthConfig(styles={"factiod": 1})
    with pytest.raises(ValidationError, match="'factiod' is neither a style"):
        SynthConfig(prompts={"factiod": "x.txt"})
    assert SynthConfig(styles={"claim": 1}, prompts={"claim": "claim.txt"}).styles == {"claim": 1}  # a custom style
    with pytest.raises(ValidationError, match="base_url"):
        SynthConfig(llm={"name": "openai", "model": "m"})
    assert SynthConfig(llm={"model": "x/y"}).llm["name"] == "transformers"
