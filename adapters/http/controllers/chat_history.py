"""Chat history (#1691-#1705): the caller's sessions, messages, search, stats and feedback.

Every POST answers 200 and every DELETE 200 with a body (the seed's FastAPI defaults, not Litestar's
201/204). Another user's object, a soft-deleted session and a missing id are the same 404."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, QueryParameter

from adapters.http.bundles.chat_history import ChatHistoryBundle
from adapters.http.params import FilterId, Limit100, Offset, RowId
from adapters.http.schemas.chat_history import (
    BatchOut,
    ChatMessageOut,
    ChatSessionOut,
    ChatStatsData,
    ChatStatsOut,
    CreateSessionIn,
    DetailOut,
    DoneOut,
    FeedbackIn,
    FeedbackListOut,
    FeedbackOut,
    FeedbackStatsData,
    FeedbackStatsOut,
    FeedbackUpdateIn,
    MessageFeedbackOut,
    MessageOut,
    SaveMessageIn,
    SaveMessagesIn,
    SearchIn,
    SessionOut,
    SessionsOut,
    UpdateSessionIn,
    feedback_list_out,
    sessions_out,
)
from domain.api_keys import Principal
from domain.chat_history import METADATA_MAX_BYTES, FeedbackFilter, NewFeedback
from domain.errors import InvalidInput

Days = Annotated[int, QueryParameter(ge=1, le=365, description="Days back from today's midnight UTC")]
FreeText = Annotated[str | None, QueryParameter(
    required=False, description="Exact match; unknown values match none")]


def _missing(what: str) -> dict[int, ResponseSpec]:
    return {404: ResponseSpec(data_container=DetailOut, description=f"No such {what} of the caller's")}


SESSION_404 = _missing("active session")
FEEDBACK_404 = _missing("feedback row, or no such session or message")


def _user_id(request: Request[Any, Any, Any]) -> int:
    principal: Principal = request.state.principal
    return principal.user.id


class ChatHistoryController(Controller):
    path = "/v1/chat"
    tags = ["chat-history"]
    opt = {"auth": "user"}

    # --- sessions -----------------------------------------------------------------------------------

    @post("/sessions", operation_id="chat_sessions_create", status_code=200)
    async def create_session(self, request: Request[Any, Any, Any], chat_history_services: ChatHistoryBundle,
                             data: JSONBody[CreateSessionIn]) -> SessionOut:
        session = await chat_history_services.create_chat_session(_user_id(request), title=data.title,
                                                                  model=data.model)
        return SessionOut(success=True, data=ChatSessionOut.of(session), message="Chat session created successfully")

    @get("/sessions", operation_id="chat_sessions_list")
    async def list_sessions(self, request: Request[Any, Any, Any], chat_history_services: ChatHistoryBundle,
                            limit: Limit100 = 20, offset: Offset = 0) -> SessionsOut:
        return sessions_out(await chat_history_services.list_chat_sessions(_user_id(request), limit=limit,
                                                                             offset=offset))

    @get("/sessions/{session_id:str}", operation_id="chat_sessions_show", responses=SESSION_404)
    async def show_session(self, request: Request[Any, Any, Any], chat_history_services: ChatHistoryBundle,
                           session_id: RowId) -> SessionOut:
        session, messages = await chat_history_services.get_chat_session(_user_id(request), session_id)
        return SessionOut(success=True, data=ChatSessionOut.of(session, messages),
                          message="Session retrieved successfully")

    @put("/sessions/{session_id:str}", operation_id="chat_sessions_update", responses=SESSION_404)
    async def update_session(self, request: Request[Any, Any, Any], chat_history_services: ChatHistoryBundle,
                             session_id: RowId, data: JSONBody[UpdateSessionIn]) -> SessionOut:
        session, messages = await chat_history_services.update_chat_session(
            _user_id(request), session_id, title=data.title, model=data.model)
        return SessionOut(success=True, data=ChatSessionOut.of(session, messages),
                          message="Chat session updated successfully")

    @delete("/sessions/{session_id:str}", operation_id="chat_sessions_delete", responses=SESSION_404, status_code=200)
    async def delete_session(self, request: Request[Any, Any, Any], chat_history_services: ChatHistoryBundle,
                             session_id: RowId) -> DoneOut:
        await chat_history_services.delete_chat_session(_user_id(request), session_id)
        return DoneOut(success=True, message="Chat session deleted successfully")

    # --- messages -----------------------------------------------------------------------------------

    @post("/sessions/{session_id:str}/messages", operation_id="chat_messages_save", responses=SESSION_404,
          status_code=200)
    async def save_message(self, request: Request[Any, Any, Any], chat_history_services: ChatHistoryBundle,
                           session_id: RowId, data: JSONBody[SaveMessageIn]) -> MessageOut:
        message = await chat_history_services.save_chat_message(_user_id(request), session_id, data.to_domain())
        return MessageOut(success=True, data=ChatMessageOut.of(message), message="Message saved successfully")

    @post("/sessions/{session_id:str}/messages/batch", operation_id="chat_messages_save_batch",
          responses=SESSION_404, status_code=200)
    async def save_messages(self, request: Request[Any, Any, Any], chat_history_services: ChatHistoryBundle,
                            session_id: RowId, data: JSONBody[SaveMessagesIn]) -> BatchOut:
        saved = await chat_history_services.save_chat_messages(_user_id(request), session_id,
                                                               [m.to_domain() for m in data.messages])
        return BatchOut.of(saved)

    # --- search and stats ---------------------------------------------------------------------------

    @post("/search", operation_id="chat_search", status_code=200)
    async def search(self, request: Request[Any, Any, Any], chat_history_services: ChatHistoryBundle,
                     data: JSONBody[SearchIn]) -> SessionsOut:
        limit = data.limit if data.limit is not None else 20
        return sessions_out(await chat_history_services.search_chat_sessions(_user_id(request), data.query,
                                                                               limit=limit))

    @get("/stats", operation_id="chat_stats")
    async def stats(self, request: Request[Any, Any, Any], chat_history_services: ChatHistoryBundle) -> ChatStatsOut:
        figures = await chat_history_services.get_chat_stats(_user_id(request))
        return ChatStatsOut(success=True, message="Chat statistics retrieved successfully", stats=ChatStatsData(
            total_sessions=figures.total_sessions, total_messages=figures.total_messages,
            total_tokens=figures.total_tokens))

    # --- feedback -----------------------------------------------------------------------------------

    @post("/feedback", operation_id="chat_feedback_submit", responses=FEEDBACK_404, status_code=200)
    async def submit_feedback(self, request: Request[Any, Any, Any], chat_history_services: ChatHistoryBundle,
                              data: JSONBody[FeedbackIn]) -> FeedbackOut:
        if data.metadata is not None and len(msgspec.json.encode(data.metadata)) > METADATA_MAX_BYTES:
            raise InvalidInput(f"metadata must encode to at most {METADATA_MAX_BYTES} bytes", field="metadata")
        row = await chat_history_services.submit_feedback(NewFeedback(
            user_id=_user_id(request), feedback_type=data.feedback_type, session_id=data.session_id,
            message_id=data.message_id, rating=data.rating, comment=data.comment, model=data.model,
            metadata=data.metadata))
        return FeedbackOut(success=True, data=MessageFeedbackOut.of(row), message="Feedback submitted successfully")

    @get("/feedback", operation_id="chat_feedback_list")
    async def list_feedback(self, request: Request[Any, Any, Any], chat_history_services: ChatHistoryBundle,
                            feedback_type: FreeText = None, session_id: FilterId = None, model: FreeText = None,
                            limit: Limit100 = 50, offset: Offset = 0) -> FeedbackListOut:
        rows = await chat_history_services.list_feedback(
            _user_id(request), FeedbackFilter(feedback_type=feedback_type, session_id=session_id, model=model),
            limit=limit, offset=offset)
        return feedback_list_out(rows)

    @get("/feedback/stats", operation_id="chat_feedback_stats")
    async def feedback_stats(self, request: Request[Any, Any, Any], chat_history_services: ChatHistoryBundle,
                             model: FreeText = None, days: Days = 30) -> FeedbackStatsOut:
        stats = await chat_history_services.get_feedback_stats(_user_id(request), model=model, days=days)
        return FeedbackStatsOut(success=True, stats=msgspec.convert(stats, FeedbackStatsData))

    @get("/sessions/{session_id:str}/feedback", operation_id="chat_session_feedback", responses=SESSION_404)
    async def session_feedback(self, request: Request[Any, Any, Any], chat_history_services: ChatHistoryBundle,
                               session_id: RowId) -> FeedbackListOut:
        return feedback_list_out(await chat_history_services.list_session_feedback(_user_id(request), session_id))

    @put("/feedback/{feedback_id:str}", operation_id="chat_feedback_update", responses=FEEDBACK_404)
    async def update_feedback(self, request: Request[Any, Any, Any], chat_history_services: ChatHistoryBundle,
                              feedback_id: RowId, data: JSONBody[FeedbackUpdateIn]) -> FeedbackOut:
        row = await chat_history_services.update_feedback(_user_id(request), feedback_id, data.to_domain())
        return FeedbackOut(success=True, data=MessageFeedbackOut.of(row), message="Feedback updated successfully")

    @delete("/feedback/{feedback_id:str}", operation_id="chat_feedback_delete", responses=FEEDBACK_404, status_code=200)
    async def delete_feedback(self, request: Request[Any, Any, Any], chat_history_services: ChatHistoryBundle,
                              feedback_id: RowId) -> DoneOut:
        await chat_history_services.delete_feedback(_user_id(request), feedback_id)
        return DoneOut(success=True, message="Feedback deleted successfully")
