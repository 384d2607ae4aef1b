"""The prompt-batch probe: a child process finds whether llama.cpp may read prompts in batches."""

from __future__ import annotations

import logging
import sys

from lumina_core.services.llm import build_provider
from lumina_core.services.llm.batch_probe import BATCHED, ONE_TOKEN, safe_prompt_batch
from lumina_core.services.model_files import SMOLLM2_135M
from lumina_core.settings import load_settings

#: A probe that really crashes the way the broken build did: the child dies by SIGSEGV.
CRASHING = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"]


def test_this_build_reads_prompts_in_batches_and_the_verdict_is_kept(tmp_path) -> None:
    model, cache = SMOLLM2_135M.locate(), tmp_path / "verdicts.json"
    # the real model in a real child; on a build that crashes, this is where it shows
    assert safe_prompt_batch(model, 2, 2048, cache=cache) == BATCHED
    # the verdict is cached: a probe that would crash is not run again
    assert safe_prompt_batch(model, 2, 2048, cache=cache, command=CRASHING) == BATCHED


def test_a_probe_killed_by_a_signal_means_one_token_at_a_time_with_a_warning(tmp_path, caplog) -> None:
    model, cache = SMOLLM2_135M.locate(), tmp_path / "verdicts.json"
    with caplog.at_level(logging.WARNING, "lumina.llm"):
        assert safe_prompt_batch(model, 2, 2048, cache=cache, command=CRASHING) == ONE_TOKEN
    assert "SIGSEGV" in caplog.text and "LUMINA_LLM_PROMPT_BATCH" in caplog.text
    # a different thread count is a different verdict, probed on its own
    assert safe_prompt_batch(model, 1, 2048, cache=cache, command=[sys.executable, "-c", "pass"]) == BATCHED


def test_the_setting_overrides_the_probe(tmp_path) -> None:
    provider = build_provider("embedded", load_settings(data_dir=tmp_path, llm_prompt_batch=8, llm_threads=1))
    assert provider.llama.context_params.n_ubatch == 8
