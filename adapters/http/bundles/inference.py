"""Inference: chat completions, legacy completions, embeddings, Anthropic messages, AI SDK."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.di import NamedDependency

from domain.services.chat_completion import ChatCompletion


@dataclass(frozen=True, slots=True)
class InferenceServices:
    chat_completion: ChatCompletion


# what a handler writes to receive it (`inference_services: InferenceBundle`)
InferenceBundle = NamedDependency[InferenceServices]
