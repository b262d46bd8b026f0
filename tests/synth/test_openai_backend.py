"""The ``openai`` backend against a real HTTP server on 127.0.0.1 serving chat completions from the local SmolLM2."""

from __future__ import annotations

import logging
import socket

import pytest

from ragkit.errors import ConfigError
from ragkit.registry import LLMS
from ragkit.synth.llm import LLMBackendError
from ragkit.synth.prompts import load_chat_template

PASSAGE = "Error LF-ERR-4012 means a connector did not answer within the deadline. Raise flow.retry.max_backoff_ms if the source is slow."


def _llm(url, **kw):
    return LLMS.create("openai", {"base_url": url, "model": "smollm2", "backoff_s": 0.01, **kw})


def test_served_reply_equals_the_local_backend(chat_server, smol):
    conv = load_chat_template("factoid").render(passage=PASSAGE, opener="What")
    remote = _llm(chat_server.url, prefill="continue").chat([conv], seed=7)
    assert remote == smol.chat([conv], seed=7)  # the same model, greedy: the same text
    assert remote[0].startswith("What") and len(remote[0]) > len("What")
    sent = chat_server.requests[0]
    assert sent["model"] == "smollm2" and sent["seed"] == 7 and sent["continue_final_message"] is True


def test_instruct_prefill_becomes_an_instruction(chat_server):
    chat_server.echo = True
    conv = load_chat_template("factoid").render(passage=PASSAGE, opener="Which")
    (reply,) = _llm(chat_server.url).chat([conv])
    assert chat_server.requests[0]["messages"][-1]["role"] == "user"
    assert reply.endswith('Start your reply with "Which".')


def test_retries_with_backoff_on_429_and_5xx(chat_server):
    chat_server.echo = True
    chat_server.fail_next = [503, 429, 502]
    assert _llm(chat_server.url, max_retries=3).chat([[{"role": "user", "content": "hi"}]]) == ["hi"]
    assert len(chat_server.requests) == 4


def test_retries_exhausted_and_non_retryable_errors_name_the_url(chat_server):
    chat_server.fail_next = [500] * 5
    with pytest.raises(LLMBackendError, match=r"127\.0\.0\.1.*/v1/chat/completions.*after 3 attempts.*HTTP 500"):
        _llm(chat_server.url, max_retries=2).chat([[{"role": "user", "content": "hi"}]])
    chat_server.reset()
    chat_server.fail_next = [400]
    with pytest.raises(LLMBackendError, match=r"refused the request: HTTP 400"):
        _llm(chat_server.url, max_retries=3).chat([[{"role": "user", "content": "hi"}]])
    assert len(chat_server.requests) == 1  # a 400 is not retried


def test_unreachable_endpoint_says_so():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again on exit: nothing listens there
    url = f"http://127.0.0.1:{port}/v1"
    with pytest.raises(LLMBackendError, match=rf"{port}/v1/chat/completions unreachable.*Is the server running"):
        _llm(url, max_retries=1).chat([[{"role": "user", "content": "hi"}]])


def test_timeout_is_retried_then_fails(chat_server):
    chat_server.echo, chat_server.delay_s = True, 0.5
    with pytest.raises(LLMBackendError, match="after 2 attempts.*timed out"):
        _llm(chat_server.url, timeout_s=0.1, max_retries=1).chat([[{"role": "user", "content": "hi"}]])


def test_concurrency_limit_and_order(chat_server):
    chat_server.echo, chat_server.delay_s = True, 0.2
    convs = [[{"role": "user", "content": f"m{i}"}] for i in range(9)]
    assert _llm(chat_server.url, concurrency=3).chat(convs) == [f"m{i}" for i in range(9)]
    assert chat_server.max_in_flight == 3


def test_api_key_from_the_named_env_var_never_leaks(chat_server, monkeypatch, caplog):
    monkeypatch.setenv("RAGKIT_TEST_KEY", "sk-very-secret")
    chat_server.echo = True
    llm = _llm(chat_server.url, api_key_env="RAGKIT_TEST_KEY")
    assert "sk-very-secret" not in repr(llm) and "sk-very-secret" not in str(llm.config_dict())
    llm.chat([[{"role": "user", "content": "hi"}]])
    assert chat_server.headers[0]["Authorization"] == "Bearer sk-very-secret"
    chat_server.fail_next = [503, 400]
    with caplog.at_level(logging.DEBUG), pytest.raises(LLMBackendError) as err:
        llm.chat([[{"role": "user", "content": "hi"}]])
    assert "sk-very-secret" not in str(err.value) and "sk-very-secret" not in caplog.text
    monkeypatch.delenv("RAGKIT_TEST_KEY")
    with pytest.raises(ConfigError, match="'RAGKIT_TEST_KEY' is not set"):
        llm.chat([[{"role": "user", "content": "hi"}]])


@pytest.mark.parametrize("body", [b"<html>502 Bad Gateway</html>", b'{"choices": []}', b'{"choices": [{"message": {"content": 42}}]}', b"\x00\xff"])
def test_malformed_responses_become_empty_replies(chat_server, body):
    chat_server.raw_body = body
    assert _llm(chat_server.url).chat([[{"role": "user", "content": "hi"}]]) == [""]


def test_bad_base_url_is_a_config_error():
    with pytest.raises(ConfigError, match="expected an http"):
        _llm("localhost:8000/v1")
