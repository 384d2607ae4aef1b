"""Model services (``llm``, ``embedder``, ``chat``), offered like any plugin's services.

Which backends serve them is configuration (``OLLAMA_URL``, ``OPENAI_BASE_URL``,
``LUMINA_LLM_PROVIDERS``, ``LUMINA_EMBEDDER``); with none set, the embedded models answer.
Models load on first use, so a host that never chats never pays for them.
"""

from __future__ import annotations

from typing import Any

from lumina_core.chat import ChatService
from lumina_core.context import PluginContext
from lumina_core.contract import HealthCheck
from lumina_core.errors import LuminaError
from lumina_core.hookspecs import hookimpl
from lumina_core.services.embeddings import build_embedder
from lumina_core.services.llm import build_llm
from lumina_core.services.model_files import SMOLLM2_135M, ModelFileMissing


@hookimpl
def register_services(ctx: PluginContext) -> dict[str, Any]:
    settings = ctx.kernel.settings
    llm = build_llm(settings)
    embedder = build_embedder(settings)
    ctx.on_stop(llm.aclose)
    ctx.on_stop(embedder.aclose)
    chat = ChatService(ctx.kernel, llm, reply_tokens=settings.chat_reply_tokens)
    return {"llm": llm, "embedder": embedder, "chat": chat}


@hookimpl
async def startup(ctx: PluginContext) -> None:
    """A server embedder learns its width now, so plugins can size their collections."""
    probe = getattr(ctx.kernel.services.get("embedder").inner, "probe", None)
    if probe is None:
        return
    try:
        await probe()
    except LuminaError as exc:
        ctx.logger.warning("the embedder is not ready yet: %s", exc.message)


@hookimpl
def health_check(ctx: PluginContext) -> HealthCheck:
    """The embedded model's file is present (cheap: no model is loaded, no server asked)."""
    if "embedded" not in {p.name for p in ctx.kernel.services.get("llm").providers}:
        return HealthCheck("llm:embedded", "ok", detail="not used")
    try:
        SMOLLM2_135M.locate()
    except ModelFileMissing as exc:
        return HealthCheck("llm:embedded", "degraded", detail=exc.message)
    return HealthCheck("llm:embedded", "ok")
