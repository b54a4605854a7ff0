"""Anthropic-compatible inference: `POST /v1/messages`."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.types import ASGIApp

from adapters.http.bundles.inference import InferenceBundle
from adapters.http.codecs import anthropic
from adapters.http.codecs.openai import decode_body, validate
from adapters.http.controllers.inference_support import caller_of, gateway_headers, identified, whole_answer
from adapters.http.schemas.messages import MessagesRequest
from adapters.http.streaming import sse_response
from domain.services.chat_completion import Reply


class MessagesController(Controller):
    path = "/v1/messages"
    tags = ["chat"]
    opt = {"auth": "optional", "scope": "inference", "error_style": "anthropic"}

    @post("/", operation_id="messages", status_code=200)
    async def messages(self, request: Request[Any, Any, Any], inference_services: InferenceBundle) -> ASGIApp:
        raw = decode_body(await request.body())
        parsed = validate(raw, MessagesRequest)
        wanted = anthropic.inference_request(raw, parsed)
        pipeline = inference_services.chat_completion
        reply = await pipeline(identified(request, wanted, pipeline.caching), caller_of(request))
        headers = gateway_headers(request, reply)
        if isinstance(reply, Reply):
            return await whole_answer(reply, anthropic.encode_reply, headers)
        return sse_response(anthropic.sse_events(reply, wanted.prompt_tokens_estimate), headers)
