"""The embedded provider: SmolLM2 in-process via llama.cpp (issue 3)."""

from __future__ import annotations

import pytest

from lumina_core.contract import Message
from lumina_core.services.llm import ContextTooLong
from lumina_core.services.llm.batch_probe import load_llama
from lumina_core.services.llm.base import GenerationOptions, collect
from lumina_core.services.llm.embedded import DEFAULT_SYSTEM_MESSAGE, EmbeddedProvider, _StopScanner

QUESTION = (Message("user", "Name the capital of France."),)


@pytest.fixture(scope="module")
def provider() -> EmbeddedProvider:
    return EmbeddedProvider()


async def test_answers_with_exact_token_counts(provider: EmbeddedProvider) -> None:
    chunks = [c async for c in provider.stream(QUESTION, provider.model_id, GenerationOptions(temperature=0, max_tokens=20))]
    text = "".join(c.text for c in chunks)
    assert "Paris" in text
    usage = chunks[-1].usage
    assert chunks[-1].finish_reason == "stop"
    assert usage.completion_tokens == await provider.count_tokens(text, provider.model_id)
    assert usage.prompt_tokens > await provider.count_tokens(QUESTION[0].content, provider.model_id)


async def test_a_stop_string_ends_the_reply_before_it(provider: EmbeddedProvider) -> None:
    result = await collect(provider.stream(QUESTION, provider.model_id, GenerationOptions(temperature=0, stop=("Paris",))))
    assert "Paris" not in result.text and result.finish_reason == "stop"


async def test_a_reader_that_stops_early_frees_the_model(provider: EmbeddedProvider) -> None:
    stream = provider.stream(QUESTION, provider.model_id, GenerationOptions(max_tokens=200))
    await anext(stream)
    await stream.aclose()
    result = await collect(provider.stream(QUESTION, provider.model_id, GenerationOptions(max_tokens=2)))
    assert result.usage.completion_tokens == 2


async def test_a_prompt_longer_than_the_context_is_refused_before_generating(provider: EmbeddedProvider) -> None:
    long = (Message("user", "word " * 2100),)
    with pytest.raises(ContextTooLong) as caught:
        await anext(provider.stream(long, provider.model_id, GenerationOptions()))
    assert "2048" in caught.value.message and caught.value.code == "context_length_exceeded"


async def test_lists_itself_with_its_context_window(provider: EmbeddedProvider) -> None:
    [model] = await provider.models()
    assert model.id == provider.model_id == "smollm2-135m-instruct.q4_1" and model.context_window == 2048


def test_stop_scanner_holds_back_a_possible_stop_string() -> None:
    scanner = _StopScanner(["</end>"])
    assert scanner.feed("Hello </") == "Hello "
    assert scanner.feed("b>") == "</b>"
    assert scanner.feed(" ok</en") == " ok"
    assert scanner.feed("d> more") == "" and scanner.stopped


def test_a_conversation_without_a_system_message_gets_lumina_s_default(provider: EmbeddedProvider) -> None:
    prompt = provider._prompt(QUESTION, GenerationOptions())
    text = provider.llama.detokenize(prompt.tokens).decode()
    assert DEFAULT_SYSTEM_MESSAGE in text and "SmolLM" not in text
    own = provider._prompt((Message("system", "Reply in French."), *QUESTION), GenerationOptions())
    assert DEFAULT_SYSTEM_MESSAGE not in provider.llama.detokenize(own.tokens).decode()


async def test_scores_how_likely_a_continuation_is(provider: EmbeddedProvider) -> None:
    context = "The capital of France is"
    right = await provider.loglikelihood(context, " Paris.", provider.model_id)
    wrong = await provider.loglikelihood(context, " a potato.", provider.model_id)
    assert right.tokens == await provider.count_tokens(" Paris.", provider.model_id)
    assert wrong.logprob < right.logprob < 0
    assert right.per_token == right.logprob / right.tokens


async def test_scoring_between_generations_changes_no_answer(provider: EmbeddedProvider) -> None:
    options = GenerationOptions(temperature=0, max_tokens=12)
    before = await collect(provider.stream(QUESTION, provider.model_id, options))
    context = "Passage: Aardvarks eat termites.\nQuestion:"
    await provider.loglikelihood(context, " What do aardvarks eat?", provider.model_id)
    after = await collect(provider.stream(QUESTION, provider.model_id, options))
    assert after.text == before.text


async def test_a_score_is_llama_cpps_own_across_batches(provider: EmbeddedProvider) -> None:
    """Read with logits asked only where they are read, batch after batch, the score is what
    llama.cpp gives when it keeps the logits of every position."""
    import numpy as np

    context = "The aardvark is a nocturnal mammal native to Africa. " * 60 + "The capital of France is"
    scored = await provider.loglikelihood(context, " Paris.", provider.model_id)
    # read as the provider reads: batched and one-token reading differ a little on some CPUs
    params = provider.llama.context_params
    reference = load_llama(provider.path, context=2048, threads=params.n_threads, prompt_batch=params.n_ubatch,
                           logits_all=True)
    try:
        head = reference.tokenize(context.encode(), add_bos=True)
        tail = reference.tokenize(b" Paris.", add_bos=False)
        assert len(head) > provider.llama.n_batch
        reference.eval(head + tail)
        rows = np.array(reference.scores[len(head) - 1 : len(head) + len(tail) - 1], dtype=np.float64)
    finally:
        reference.close()
    logprobs = rows - rows.max(axis=1, keepdims=True)
    logprobs -= np.log(np.exp(logprobs).sum(axis=1, keepdims=True))
    assert scored.tokens == len(tail)
    assert scored.logprob == pytest.approx(sum(logprobs[i, token] for i, token in enumerate(tail)), abs=1e-4)
