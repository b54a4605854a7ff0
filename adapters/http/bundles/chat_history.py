"""Chat history: sessions, messages, search, stats, feedback; the public throughput metrics."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.di import NamedDependency

from domain.services.chat_feedback import (
    DeleteFeedback,
    GetFeedbackStats,
    ListFeedback,
    ListSessionFeedback,
    SubmitFeedback,
    UpdateFeedback,
)
from domain.services.chat_messages import SaveChatMessage, SaveChatMessages
from domain.services.chat_queries import GetChatStats, SearchChatSessions
from domain.services.chat_sessions import (
    CreateChatSession,
    DeleteChatSession,
    GetChatSession,
    ListChatSessions,
    UpdateChatSession,
)
from domain.services.token_throughput import TokensPerSecond


@dataclass(frozen=True, slots=True)
class ChatHistoryServices:
    create_chat_session: CreateChatSession
    list_chat_sessions: ListChatSessions
    get_chat_session: GetChatSession
    update_chat_session: UpdateChatSession
    delete_chat_session: DeleteChatSession
    save_chat_message: SaveChatMessage
    save_chat_messages: SaveChatMessages
    search_chat_sessions: SearchChatSessions
    get_chat_stats: GetChatStats
    submit_feedback: SubmitFeedback
    list_feedback: ListFeedback
    list_session_feedback: ListSessionFeedback
    get_feedback_stats: GetFeedbackStats
    update_feedback: UpdateFeedback
    delete_feedback: DeleteFeedback
    tokens_per_second: TokensPerSecond


# what a handler writes to receive it (`chat_history_services: ChatHistoryBundle`)
ChatHistoryBundle = NamedDependency[ChatHistoryServices]
