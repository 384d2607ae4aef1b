"""What paid models cost per day (``LLM_PRICES``): kept across processes, nothing for local models."""

from __future__ import annotations

from prometheus_client import REGISTRY

from lumina_core.contract import Usage
from lumina_core.services.llm import Price, Spend, SpendLedger, build_llm
from lumina_core.services.llm.spend import utc_day
from lumina_core.settings import load_settings

EMBEDDED = "smollm2-135m-instruct.q4_1"


def test_a_priced_model_costs_its_tokens_and_an_unpriced_one_nothing(tmp_path) -> None:
    ledger = SpendLedger(tmp_path / "spend.sqlite", {"gpt-4o-mini": Price(0.15, 0.60)})
    assert ledger.record("gpt-4o-mini", Usage(prompt_tokens=1_000_000, completion_tokens=500_000)) == 0.45
    assert ledger.record("llama3.2", Usage(prompt_tokens=10**9, completion_tokens=10**9)) == 0.0
    assert ledger.day() == Spend(usd=0.45, calls=1, prompt_tokens=1_000_000, completion_tokens=500_000)
    assert ledger.day("2000-01-01") == Spend()
    ledger.close()


def test_processes_sharing_the_data_folder_share_one_day(tmp_path) -> None:
    server, worker = (SpendLedger(tmp_path / "spend.sqlite", {"paid": Price(1.0, 2.0)}) for _ in range(2))
    server.record("paid", Usage(prompt_tokens=100, completion_tokens=10))
    worker.record("paid", Usage(prompt_tokens=200, completion_tokens=20))
    assert worker.day() == server.day() == Spend(usd=0.00036, calls=2, prompt_tokens=300, completion_tokens=30)
    server.close()
    worker.close()


def test_without_prices_nothing_is_kept_and_no_file_is_made(tmp_path) -> None:
    llm = build_llm(load_settings(data_dir=tmp_path))
    assert llm.spend() == Spend() and not (tmp_path / "llm").exists()


async def test_every_reply_of_a_priced_model_is_counted_streamed_or_not(tmp_path) -> None:
    settings = load_settings(data_dir=tmp_path, llm_prices={EMBEDDED: [1000.0, 2000.0]})
    llm = build_llm(settings)
    before = REGISTRY.get_sample_value("lumina_llm_spend_usd_total", {"model": EMBEDDED}) or 0.0
    try:
        whole = await llm.chat([{"role": "user", "content": "Hi"}], max_tokens=2)
        streamed = [chunk async for chunk in llm.stream([{"role": "user", "content": "Hi"}], max_tokens=2)]
    finally:
        await llm.aclose()
    usage = [whole.usage, streamed[-1].usage]
    expected = sum(u.prompt_tokens * 1000 / 1e6 + u.completion_tokens * 2000 / 1e6 for u in usage)
    reader = build_llm(settings)  # another process on the same data folder
    reopened = reader.spend(utc_day())
    await reader.aclose()
    assert reopened.calls == 2 and round(reopened.usd, 9) == round(expected, 9)
    after = REGISTRY.get_sample_value("lumina_llm_spend_usd_total", {"model": EMBEDDED})
    assert round(after - before, 9) == round(expected, 9)
