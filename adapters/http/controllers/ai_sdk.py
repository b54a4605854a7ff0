"""Vercel AI SDK routes (#1629 /api/chat/ai-sdk, #1630 /api/chat/ai-sdk-completions): one handler,
the same pipeline (and so the same billing) as every other inference route."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.types import ASGIApp

from adapters.http.bundles.inference import InferenceBundle
from adapters.http.codecs import ai_sdk
from adapters.http.codecs.openai import decode_body, validate
from adapters.http.controllers.inference_support import caller_of, gateway_headers, identified, whole_answer
from adapters.http.schemas.ai_sdk import AISDKChatRequest
from adapters.http.streaming import SSE_HEADERS, sse_response
from domain.services.chat_completion import Reply


class AISDKController(Controller):
    path = "/api/chat"
    tags = ["chat"]
    opt = {"auth": "user", "scope": "inference"}

    @post("/ai-sdk", operation_id="ai_sdk_chat", status_code=200)
    async def ai_sdk_chat(self, request: Request[Any, Any, Any], inference_services: InferenceBundle) -> ASGIApp:
        return await _ai_sdk(request, inference_services)

    @post("/ai-sdk-completions", operation_id="ai_sdk_chat_completions", status_code=200)
    async def ai_sdk_completions(self, request: Request[Any, Any, Any],
                                 inference_services: InferenceBundle) -> ASGIApp:
        """The same answer as `/ai-sdk` (#1630 documents it as an alias)."""
        return await _ai_sdk(request, inference_services)


async def _ai_sdk(request: Request[Any, Any, Any], inference_services: InferenceBundle) -> ASGIApp:
    parsed = validate(decode_body(await request.body()), AISDKChatRequest)
    wanted = ai_sdk.inference_request(parsed)
    pipeline = inference_services.chat_completion
    reply = await pipeline(identified(request, wanted, pipeline.caching), caller_of(request))
    headers = gateway_headers(request, reply)
    if isinstance(reply, Reply):
        return await whole_answer(reply, ai_sdk.encode_reply, headers)
    return sse_response(ai_sdk.sse_events(reply), {**headers, "Cache-Control": SSE_HEADERS["Cache-Control"]
                                                   + ", no-transform"})
