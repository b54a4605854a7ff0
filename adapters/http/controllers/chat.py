"""OpenAI-compatible inference: chat completions (#1689), legacy completions, embeddings."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.types import ASGIApp

from adapters.http.bundles.inference import InferenceBundle
from adapters.http.codecs.openai import decode_body, encode_reply, inference_request, sse_events, validate
from adapters.http.controllers.inference_support import (
    INFERENCE_OPT,
    caller_of,
    gateway_headers,
    identified,
    whole_answer,
)
from adapters.http.params import BIGINT_MAX
from adapters.http.schemas.chat import ChatCompletionRequest, CompletionRequest, EmbeddingRequest
from adapters.http.streaming import sse_response
from domain.errors import InvalidInput
from domain.inference import Operation
from domain.services.chat_completion import Reply


class ChatController(Controller):
    path = "/v1"
    tags = ["chat"]
    opt = INFERENCE_OPT

    @post("/chat/completions", operation_id="chat_completions", status_code=200)
    async def chat_completions(self, request: Request[Any, Any, Any], inference_services: InferenceBundle) -> ASGIApp:
        return await _infer(request, inference_services, ChatCompletionRequest, Operation.CHAT, _session_of(request))

    @post("/completions", operation_id="completions", status_code=200)
    async def completions(self, request: Request[Any, Any, Any], inference_services: InferenceBundle) -> ASGIApp:
        return await _infer(request, inference_services, CompletionRequest, Operation.COMPLETION)

    @post("/embeddings", operation_id="embeddings", status_code=200)
    async def embeddings(self, request: Request[Any, Any, Any], inference_services: InferenceBundle) -> ASGIApp:
        return await _infer(request, inference_services, EmbeddingRequest, Operation.EMBEDDING)


def _session_of(request: Request[Any, Any, Any]) -> int | None:
    """`?session_id=N`: the chat session the answer is saved to. Read by hand (not a declared parameter),
    so requests without it pay one byte search and nothing else."""
    if b"session_id" not in request.scope.get("query_string", b""):
        return None
    raw = request.query_params.get("session_id")
    if raw is None:
        return None
    try:
        session_id = int(raw)
    except ValueError:
        session_id = 0
    if not 1 <= session_id <= BIGINT_MAX:
        raise InvalidInput("session_id must be a positive integer", field="session_id", loc=["query", "session_id"])
    return session_id


async def _infer(request: Request[Any, Any, Any], inference_services: InferenceBundle, shape: type[Any],
                 operation: Operation, session_id: int | None = None) -> Any:
    raw = decode_body(await request.body())
    parsed = validate(raw, shape)
    wanted = inference_request(raw, parsed, operation)
    pipeline = inference_services.chat_completion
    reply = await pipeline(identified(request, wanted, pipeline.caching), caller_of(request), session_id)
    headers = gateway_headers(request, reply)
    if isinstance(reply, Reply):
        return await whole_answer(reply, encode_reply, headers)
    return sse_response(sse_events(reply, wanted.include_usage), headers)
