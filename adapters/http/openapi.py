"""The OpenAPI 3.1 document, generated from the controllers and their msgspec structs.

Litestar builds the paths and schemas; this module adds what it cannot know: each operation's
security requirement, read from the same `opt["auth"]` policy the guard enforces (so the document
cannot drift from the access rules), and the request bodies of the inference routes, which decode
their JSON by hand (for speed) and so have no `data` parameter for Litestar to describe."""

from __future__ import annotations

import copy
from typing import Any

import msgspec
from litestar import Litestar, Request, Router, get
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Tag

from adapters.http.schemas.ai_sdk import AISDKChatRequest
from adapters.http.schemas.analytics import AnalyticsBatchIn
from adapters.http.schemas.chat import ChatCompletionRequest, CompletionRequest, EmbeddingRequest
from adapters.http.schemas.messages import MessagesRequest

BEARER = "ApiKey"
ANTHROPIC_HEADER = "AnthropicApiKey"
ADMIN_ENV_KEY = "AdminApiKey"

# What each policy asks of a caller, as OpenAPI security requirements (alternatives; `{}` = none).
_SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "public": [],
    "optional": [{BEARER: []}, {}],
    "identify": [{BEARER: []}, {}],
    "user": [{BEARER: []}],
    "admin": [{BEARER: []}],
    "env_key": [{ADMIN_ENV_KEY: []}],
}

# Inference request bodies, by operation id (see the module docstring).
_BODIES: dict[str, Any] = {
    "analytics_log_batch": AnalyticsBatchIn,
    "chat_completions": ChatCompletionRequest,
    "completions": CompletionRequest,
    "embeddings": EmbeddingRequest,
    "messages": MessagesRequest,
    "ai_sdk_chat": AISDKChatRequest,
    "ai_sdk_chat_completions": AISDKChatRequest,
}

_USAGE = {"type": "object", "properties": {
    "prompt_tokens": {"type": "integer"}, "completion_tokens": {"type": "integer"},
    "total_tokens": {"type": "integer"}, "cost": {"type": "number", "description": "USD charged"}}}
_CHOICES = {"type": "array", "items": {"type": "object", "properties": {
    "index": {"type": "integer"}, "finish_reason": {"type": ["string", "null"]},
    "message": {"type": "object"}, "text": {"type": "string"}}}}
_OPENAI_ANSWER = {"type": "object", "required": ["id", "object", "model", "choices"], "properties": {
    "id": {"type": "string"}, "object": {"type": "string"}, "created": {"type": "integer"},
    "model": {"type": "string"}, "choices": _CHOICES, "usage": _USAGE, "gateway_usage": {"type": "object"}}}
_EMBEDDINGS = {"type": "object", "required": ["object", "data"], "properties": {
    "object": {"const": "list"}, "model": {"type": "string"}, "usage": _USAGE,
    "data": {"type": "array", "items": {"type": "object", "properties": {
        "index": {"type": "integer"}, "embedding": {"type": "array", "items": {"type": "number"}}}}}}}
_ANTHROPIC_ANSWER = {"type": "object", "required": ["id", "type", "role", "content", "model"], "properties": {
    "id": {"type": "string"}, "type": {"const": "message"}, "role": {"const": "assistant"},
    "content": {"type": "array", "items": {"type": "object"}}, "model": {"type": "string"},
    "stop_reason": {"type": ["string", "null"]}, "usage": {"type": "object"}}}
_SSE = {"text/event-stream": {"schema": {"type": "string", "description": "Server-sent events, when `stream` is true"}}}
# Inference answers, by operation id: the JSON answer, or SSE when the request asked to stream.
_ANSWERS: dict[str, dict[str, Any]] = {
    "chat_completions": _OPENAI_ANSWER, "completions": _OPENAI_ANSWER, "embeddings": _EMBEDDINGS,
    "messages": _ANTHROPIC_ANSWER, "ai_sdk_chat": _OPENAI_ANSWER, "ai_sdk_chat_completions": _OPENAI_ANSWER,
}

# Query parameters the inference routes read by hand (so requests without them pay nothing to parse).
_QUERY: dict[str, list[dict[str, Any]]] = {
    "chat_completions": [{"name": "session_id", "in": "query", "required": False,
                          "description": "Save the answer to this chat session of the caller",
                          "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}}],
}

_TAGS = {
    "chat": "OpenAI-compatible inference (chat completions, completions, embeddings)",
    "messages": "Anthropic-compatible inference",
    "admin": "Operator routes: users, credits, limits, coupons (admin key)",
    "credits": "The caller's credits and ledger",
    "coupons": "Coupon redemption",
    "models": "The model catalog",
    "health": "Liveness and readiness",
    "diagnostics": "Capacity diagnostics",
}


def openapi_config(version: str) -> OpenAPIConfig:
    """`/schema/openapi.json` (Litestar's router, made public) plus the same document at `/openapi.json`."""
    return OpenAPIConfig(
        title="Gatewayz",
        version=version,
        description="One API key for every AI model: OpenAI- and Anthropic-compatible inference with "
                    "failover, prepaid credits, per-key rate limits and an operations API.",
        path="/schema",
        render_plugins=[SecuredJsonRenderPlugin()],
        openapi_router=Router("/schema", route_handlers=[], include_in_schema=False, opt={"auth": "public"}),
        components=Components(security_schemes={
            BEARER: SecurityScheme(type="http", scheme="bearer", bearer_format="gw_live_...",
                                   description="A Gatewayz API key: `Authorization: Bearer <key>`."),
            ANTHROPIC_HEADER: SecurityScheme(type="apiKey", name="x-api-key", security_scheme_in="header",
                                             description="The same key, as Anthropic's SDK sends it."),
            ADMIN_ENV_KEY: SecurityScheme(type="http", scheme="bearer",
                                          description="The operator key configured as ADMIN_API_KEY."),
        }),
        tags=[Tag(name=name, description=text) for name, text in _TAGS.items()],
        use_handler_docstrings=True,
    )


class SecuredJsonRenderPlugin(JsonRenderPlugin):
    """Litestar's JSON renderer over the completed document (computed once per app)."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return msgspec.json.encode(document(request.app, openapi_schema))


def document(app: Litestar, generated: dict[str, Any] | None = None) -> dict[str, Any]:
    cached: dict[str, Any] | None = getattr(app.state, "openapi_document", None)
    if cached is None:
        if generated is None:
            generated = app.openapi_schema.to_schema()
        cached = complete(app, generated)
        app.state.openapi_document = cached
    return cached


def complete(app: Litestar, generated: dict[str, Any]) -> dict[str, Any]:
    """Security per operation from its handler's policy; hand-decoded request bodies."""
    doc = copy.deepcopy(generated)
    policies = {(path, method): policy for path, method, policy in operations_of(app)}
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    bodies, extra = msgspec.json.schema_components(list(_BODIES.values()),
                                                   ref_template="#/components/schemas/{name}")
    components.update(extra)
    body_of = dict(zip(_BODIES, bodies, strict=True))
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            policy = policies.get((path, method.upper()), "public")
            security = _SECURITY[policy]
            if path == "/v1/messages" and security:
                security = [{ANTHROPIC_HEADER: []}, *security]
            if security:
                operation["security"] = security
            else:
                operation.pop("security", None)
            if (schema := body_of.get(operation.get("operationId", ""))) is not None:
                operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
            if (query := _QUERY.get(operation.get("operationId", ""))) is not None:
                operation.setdefault("parameters", []).extend(copy.deepcopy(query))
            if (answer := _ANSWERS.get(operation.get("operationId", ""))) is not None:
                content = {"application/json": {"schema": answer}}
                if operation["operationId"] != "embeddings":
                    content.update(_SSE)
                operation["responses"]["200"] = {"description": "The answer (streamed as SSE when asked)",
                                                 "content": content}
            _error_responses(operation, policy)
    components.update(_ERROR_SCHEMAS)
    return doc


_ERROR_SCHEMAS: dict[str, Any] = {
    "ValidationErrorItem": {"type": "object", "required": ["loc", "msg", "type"], "properties": {
        "loc": {"type": "array", "items": {"oneOf": [{"type": "string"}, {"type": "integer"}]}},
        "msg": {"type": "string"}, "type": {"type": "string"}}},
    "ValidationError": {"type": "object", "required": ["detail"], "properties": {
        "detail": {"type": "array", "items": {"$ref": "#/components/schemas/ValidationErrorItem"}}}},
    "ErrorDetail": {"type": "object", "required": ["detail"], "properties": {"detail": {}}},
}


def _ref(name: str, description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}


def _error_responses(operation: dict[str, Any], policy: str) -> None:
    """Litestar documents its own 400 for bad input; we answer 422 (FastAPI's shape, as the spec's
    clients expect). Secured operations also document their 401, admin ones their 403."""
    responses: dict[str, Any] = operation["responses"]
    if responses.pop("400", None) is not None or "requestBody" in operation:
        responses["422"] = _ref("ValidationError", "Invalid input: the field is named in `loc`")
    if policy in {"user", "admin", "env_key", "optional"}:
        responses["401"] = _ref("ErrorDetail", "Missing or invalid API key")
    if policy == "admin":
        responses["403"] = _ref("ErrorDetail", "Administrator privileges required")
    if policy == "identify":
        responses["429"] = _ref("ErrorDetail", "Too many anonymous requests from this address")
        responses["503"] = _ref("ErrorDetail", "The service cannot take the request now (see Retry-After)")


def operations_of(app: Litestar) -> list[tuple[str, str, str]]:
    """(path as the document writes it, method, auth policy) of every documented handler."""
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if not handler.resolve_include_in_schema():
                continue
            for method in sorted(getattr(handler, "http_methods", ()) or ()):
                if method in {"OPTIONS", "HEAD"}:
                    continue
                found.append((route.path_format or "/", method, str(handler.opt.get("auth"))))
    return found


@get("/openapi.json", operation_id="openapi_document", include_in_schema=False, opt={"auth": "public"},
     media_type="application/vnd.oai.openapi+json")
async def openapi_document(request: Request[Any, Any, Any]) -> bytes:
    """The document again at the root, where most tools look for it first."""
    return msgspec.json.encode(document(request.app))
