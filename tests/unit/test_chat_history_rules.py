"""Pure rules of chat history and the throughput metrics: the gate, the exposition text (escaping as
prometheus_client reads it), the 60-second gate cache, feedback arithmetic, patterns, answers."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client.parser import text_string_to_metric_families

from adapters.cache.throughput import CachedUsagePairs
from adapters.memory.clock import FixedClock
from domain.chat_history import (
    FeedbackGroup,
    StreamedAnswer,
    answer_text,
    default_title,
    feedback_stats,
    feedback_window_start,
    like_pattern,
    matches,
)
from domain.throughput import Throughput, UsagePair, allowed_pairs, exposition

NOW = datetime(2026, 3, 4, 12, 30, 45, tzinfo=UTC)


def pair(model_id: int, provider: str, requests: int) -> UsagePair:
    return UsagePair(model_id=model_id, provider=provider, requests=requests)


def test_the_gate_is_the_top_three_plus_each_other_providers_most_used_pair() -> None:
    pairs = [pair(1, "a", 50), pair(2, "a", 40), pair(3, "b", 30), pair(4, "a", 20), pair(7, "c", 5),
             pair(6, "c", 5), pair(8, "c", 1), pair(9, "d", 1)]
    assert allowed_pairs(pairs) == {(1, "a"), (2, "a"), (3, "b"), (6, "c"), (9, "d")}
    assert allowed_pairs([]) == frozenset()
    tied = [pair(5, "x", 3), pair(2, "y", 3), pair(4, "z", 3), pair(3, "w", 3)]  # ties: lowest model id first
    assert allowed_pairs(tied) == {(2, "y"), (3, "w"), (4, "z"), (5, "x")}  # x is its provider's only pair


def test_label_values_are_escaped_so_the_prometheus_parser_reads_them_back() -> None:
    name = 'odd "model" \\ with\nnewline'
    body = exposition(Throughput(model=name, provider="p", requests=3, total_tokens=300, total_ms=1500),
                      generated=NOW, time_range="week", gated=True)
    assert body.endswith("\n") and "# Generated: 2026-03-04T12:30:45+00:00\n" in body
    [family] = list(text_string_to_metric_families(body))
    assert (family.name, family.type) == ("gatewayz_tokens_per_second", "gauge")
    [sample] = family.samples
    assert sample.labels == {"model": name, "provider": "p", "requests": "3", "total_tokens": "300"}
    assert sample.value == 200.0


def test_no_figure_or_no_time_writes_no_sample() -> None:
    silent = Throughput(model="m", provider="p", requests=2, total_tokens=10, total_ms=0)
    assert silent.tokens_per_second is None
    gated = exposition(silent, generated=NOW, time_range="hour", gated=True)
    assert gated.splitlines()[-1] == "# Filtered to: top 3 models + minimum 1 per provider"
    assert exposition(None, generated=NOW, time_range="all", gated=False).splitlines()[-1] == "# No data available"


class CountingStore:
    def __init__(self) -> None:
        self.calls = 0

    async def usage_pairs(self) -> list[UsagePair]:
        self.calls += 1
        return [pair(self.calls, "p", 1)]

    async def throughput(self, model_id: int, provider: str, *, since: datetime | None) -> Throughput | None:
        return None

    async def model_number(self, model: str) -> int | None:
        return None


async def test_the_gate_input_is_recomputed_at_most_every_sixty_seconds() -> None:
    store, clock = CountingStore(), FixedClock(NOW)
    cached = CachedUsagePairs(store, clock)
    assert (await cached.usage_pairs())[0].model_id == 1
    clock.advance(59.9)
    assert (await cached.usage_pairs())[0].model_id == 1 and store.calls == 1
    clock.advance(0.1)
    assert (await cached.usage_pairs())[0].model_id == 2 and store.calls == 2


def test_feedback_stats_round_like_the_seed_and_group_null_models_as_unknown() -> None:
    groups = [FeedbackGroup(model="m", feedback_type="thumbs_up", count=2, rating_sum=9, rating_count=2),
              FeedbackGroup(model=None, feedback_type="regenerate", count=1, rating_sum=2, rating_count=1)]
    stats = feedback_stats(groups, days=7)
    assert (stats["thumbs_up_rate"], stats["thumbs_down_rate"], stats["average_rating"]) == (66.67, 0.0, 3.67)
    assert stats["by_model"] == {"m": {"thumbs_up": 2, "thumbs_down": 0, "regenerate": 0, "total": 2},
                                 "unknown": {"thumbs_up": 0, "thumbs_down": 0, "regenerate": 1, "total": 1}}
    assert feedback_stats([], days=1)["average_rating"] is None
    assert feedback_window_start(NOW, 30) == datetime(2026, 2, 2, tzinfo=UTC)


def test_patterns_titles_and_answers() -> None:
    assert like_pattern(r"50%_a\b") == r"%50\%\_a\\b%"
    assert matches("ABC", "xabcx") and not matches("a%", "abc")
    assert default_title(NOW) == "Chat 2026-03-04 12:30"
    calls = [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
    assert answer_text({"choices": [{"message": {"content": "hi", "tool_calls": calls}}]}) == (
        'hi\n[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]')
    assert answer_text({"choices": []}) == answer_text({}) == answer_text({"choices": [{"message": "x"}]}) == ""
    streamed = StreamedAnswer()
    streamed.add({"choices": [{"delta": {"content": "a"}}]})
    streamed.add({"choices": [{"delta": {"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "f"}}]}}]})
    streamed.add({"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}}]})
    streamed.add({"choices": [], "usage": {"total_tokens": 3}})
    assert streamed.text() == 'a\n[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]'


def test_malformed_stream_deltas_are_skipped_never_raised() -> None:
    streamed = StreamedAnswer()
    for data in ({"choices": "x"}, {"choices": [None, {"delta": "x"}, {"delta": {"tool_calls": ["x", None]}}]},
                 {"choices": [{"delta": {"content": 5, "tool_calls": [{"index": "0", "function": "f"}]}}]},
                 {"choices": [{"delta": {"tool_calls": [{"index": 0, "id": 7, "function": {"name": None}}]}}]},
                 {"choices": [{"delta": {"content": "ok"}}]}):
        streamed.add(data)  # type: ignore[arg-type]
    assert streamed.text().startswith("ok\n[")
