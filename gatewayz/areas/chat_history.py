"""Chat history: sessions, messages, search, stats, feedback (#1691-#1705) and the public
tokens-per-second metrics (#1706, #1707)."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.cache.throughput import CachedUsagePairs
from adapters.http.area import Area
from adapters.http.bundles.chat_history import ChatHistoryServices
from adapters.http.controllers.chat_history import ChatHistoryController
from adapters.http.controllers.chat_metrics import ChatMetricsController
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


class ChatHistoryArea(containers.DeclarativeContainer):
    chat_history_store = providers.Dependency()
    throughput_store = providers.Dependency()
    uow = providers.Dependency()
    clock = providers.Dependency()

    create_chat_session = providers.Singleton(CreateChatSession, chat_history_store, uow, clock)
    list_chat_sessions = providers.Singleton(ListChatSessions, chat_history_store)
    get_chat_session = providers.Singleton(GetChatSession, chat_history_store)
    update_chat_session = providers.Singleton(UpdateChatSession, chat_history_store, clock)
    delete_chat_session = providers.Singleton(DeleteChatSession, chat_history_store, clock)
    save_chat_messages = providers.Singleton(SaveChatMessages, chat_history_store, clock)
    save_chat_message = providers.Singleton(SaveChatMessage, save_chat_messages)
    search_chat_sessions = providers.Singleton(SearchChatSessions, chat_history_store)
    get_chat_stats = providers.Singleton(GetChatStats, chat_history_store)
    submit_feedback = providers.Singleton(SubmitFeedback, chat_history_store, uow, clock)
    list_feedback = providers.Singleton(ListFeedback, chat_history_store)
    list_session_feedback = providers.Singleton(ListSessionFeedback, chat_history_store)
    get_feedback_stats = providers.Singleton(GetFeedbackStats, chat_history_store, clock)
    update_feedback = providers.Singleton(UpdateFeedback, chat_history_store, clock)
    delete_feedback = providers.Singleton(DeleteFeedback, chat_history_store)
    # the gate's usage counts are cached for 60 s; the figures themselves are read per request
    tokens_per_second = providers.Singleton(TokensPerSecond, providers.Singleton(CachedUsagePairs, throughput_store,
                                                                                 clock), clock)
    bundle = providers.Singleton(
        ChatHistoryServices, create_chat_session, list_chat_sessions, get_chat_session, update_chat_session,
        delete_chat_session, save_chat_message, save_chat_messages, search_chat_sessions, get_chat_stats,
        submit_feedback, list_feedback, list_session_feedback, get_feedback_stats, update_feedback, delete_feedback,
        tokens_per_second)


HTTP = Area("chat_history", [ChatHistoryController, ChatMetricsController])
