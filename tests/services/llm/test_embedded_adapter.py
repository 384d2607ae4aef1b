"""The embedded provider switches LoRA adapters at run time (issue 18): no restart, no failed request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from lumina_core.contract import Message
from lumina_core.errors import ValidationFailed
from lumina_core.services.llm.base import GenerationOptions, collect
from lumina_core.services.llm.embedded import EmbeddedProvider

gguf = pytest.importorskip("gguf", reason="the GGUF writer comes with the trainer's extra: lumina-trainer[train]")

QUESTION = (Message("user", "Name the capital of France."),)
GREEDY = GenerationOptions(temperature=0, max_tokens=4)


def random_lora(provider: EmbeddedProvider, path: Path, *, rank: int = 4, scale: float = 0.1) -> Path:
    """A GGUF LoRA of random weights on every q and v projection of the model: llama.cpp's layout."""
    reader = gguf.GGUFReader(provider.path)
    shapes = {t.name: [int(n) for n in t.shape] for t in reader.tensors}
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(rank))
    noise = np.random.default_rng(7)
    for name, shape in sorted(shapes.items()):
        if name.endswith(("attn_q.weight", "attn_v.weight")):
            columns, rows = shape
            writer.add_tensor(f"{name}.lora_a", noise.normal(0, scale, (rank, columns)).astype(np.float32))
            writer.add_tensor(f"{name}.lora_b", noise.normal(0, scale, (rows, rank)).astype(np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@pytest.fixture
async def provider() -> AsyncIterator[EmbeddedProvider]:
    """The shared embedded model, left without an adapter for the tests after these."""
    provider = EmbeddedProvider()
    yield provider
    await provider.set_adapter(None)


async def _score(provider: EmbeddedProvider) -> float:
    return (await provider.loglikelihood("The capital of France is", " Paris.", provider.model_id)).logprob


async def test_an_adapter_changes_the_model_and_removing_it_restores_it(provider: EmbeddedProvider, tmp_path: Path) -> None:
    plain = await _score(provider)
    await provider.set_adapter(random_lora(provider, tmp_path / "noise.gguf"), name="noise")
    adapted = await _score(provider)
    assert abs(adapted - plain) > 0.01 and provider.adapter == "noise"
    assert (await provider.models())[0].adapter == "noise"
    await provider.set_adapter(None)
    assert await _score(provider) == pytest.approx(plain, abs=1e-4) and provider.adapter is None


async def test_requests_in_flight_during_swaps_all_finish(provider: EmbeddedProvider, tmp_path: Path) -> None:
    adapter = random_lora(provider, tmp_path / "noise.gguf")

    async def swap() -> None:
        for turn in range(6):
            await provider.set_adapter(adapter if turn % 2 == 0 else None)

    results = await asyncio.gather(*(collect(provider.stream(QUESTION, provider.model_id, GREEDY)) for _ in range(4)), swap())
    assert all(r.finish_reason in ("stop", "length") and r.text for r in results[:4])


async def test_a_file_that_is_no_adapter_is_refused_and_the_current_one_stays(provider: EmbeddedProvider, tmp_path: Path) -> None:
    await provider.set_adapter(random_lora(provider, tmp_path / "noise.gguf"), name="noise")
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"not a gguf file")
    with pytest.raises(ValidationFailed) as caught:
        await provider.set_adapter(broken)
    assert "could not load" in caught.value.message and provider.adapter == "noise"
    with pytest.raises(ValidationFailed):
        await provider.set_adapter(tmp_path / "missing.gguf")
