"""Circuit breakers: public reads, admin resets."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.di import NamedDependency

from domain.services.breaker_queries import ListBreakers, ShowBreaker
from domain.services.reset_breakers import ResetAllBreakers, ResetBreaker


@dataclass(frozen=True, slots=True)
class BreakersServices:
    list_breakers: ListBreakers
    show_breaker: ShowBreaker
    reset_breaker: ResetBreaker
    reset_all_breakers: ResetAllBreakers


# what a handler writes to receive it (`breakers_services: BreakersBundle`)
BreakersBundle = NamedDependency[BreakersServices]
