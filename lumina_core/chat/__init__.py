"""The chat pipeline: context hooks, token budget, model, after-turn hooks (the ``chat`` service)."""

from lumina_core.chat.budget import Budget
from lumina_core.chat.pipeline import ChatReply, ChatService, PreparedChat

__all__ = ["Budget", "ChatReply", "ChatService", "PreparedChat"]
