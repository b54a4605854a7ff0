"""Public tokens-per-second metrics (#1706, #1707) in the Prometheus text format."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import QueryParameter

from adapters.http.bundles.chat_history import ChatHistoryBundle
from adapters.http.params import BIGINT_MAX
from adapters.http.schemas.chat_history import DetailOut

PROMETHEUS_TEXT = "text/plain; version=0.0.4"  # Litestar appends `; charset=utf-8` to text types itself
ModelId = Annotated[int, QueryParameter(ge=1, le=BIGINT_MAX, description="The model's integer id")]
ProviderSlug = Annotated[str, QueryParameter(min_length=1, max_length=64, description="Provider slug")]
Time = Annotated[str, QueryParameter(max_length=16, description="hour, week, month, 1year or 2year")]


GATED = {400: ResponseSpec(data_container=DetailOut, description="`time` is not hour, week, month, 1year or 2year"),
         403: ResponseSpec(data_container=DetailOut, description="Not one of the most used (model, provider) pairs")}


def _text(body: str) -> Response[bytes]:
    return Response(body.encode(), media_type=PROMETHEUS_TEXT)


class ChatMetricsController(Controller):
    path = "/v1/chat/completions/metrics"
    tags = ["chat-metrics"]
    opt = {"auth": "public"}

    @get("/tokens-per-second", operation_id="chat_metrics_tokens_per_second", media_type=PROMETHEUS_TEXT,
         responses=GATED)
    async def tokens_per_second(self, chat_history_services: ChatHistoryBundle, time: Time, model_id: ModelId,
                                provider_id: ProviderSlug) -> Response[bytes]:
        return _text(await chat_history_services.tokens_per_second.windowed(time, model_id, provider_id))

    @get("/tokens-per-second/all", operation_id="chat_metrics_tokens_per_second_all", media_type=PROMETHEUS_TEXT)
    async def tokens_per_second_all(self, chat_history_services: ChatHistoryBundle, model_id: ModelId,
                                    provider_id: ProviderSlug) -> Response[bytes]:
        return _text(await chat_history_services.tokens_per_second.all_time(model_id, provider_id))
