"""The catalog file loader: strict, exact, and every complaint names its line and field."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from adapters.catalog_file import CatalogFileError, load_catalog_file, parse_catalog
from domain.catalog import ProviderKind, catalog_problems
from gatewayz.cli import DEFAULT_CATALOG

VALID = """\
providers:
  - slug: alpha
    name: Alpha
    kind: openai
    base_url: https://alpha.example/v1
    api_key_env: ALPHA_API_KEY
  - slug: claude
    name: Claude Inc
    kind: anthropic
    base_url: https://claude.example/v1/
    api_key_env: CLAUDE_KEY
models:
  - id: acme/chat
    name: Acme Chat
    context_length: 128000
    max_output_tokens: 4096
    aliases: [chat]
    offers:
      - {provider: alpha, native_id: chat-1, input_per_mtok: 0.15, output_per_mtok: 0.60}
      - {provider: claude, native_id: acme-chat, input_per_mtok: "3", output_per_mtok: 15}
  - id: acme/embed
    name: Acme Embed
    context_length: 8192
    max_output_tokens: 0
    offers:
      - {provider: alpha, native_id: embed-1, input_per_mtok: 0.02, output_per_mtok: 0}
"""


def broken(line: int, new: str) -> str:
    """VALID with its 1-based `line` replaced."""
    lines = VALID.splitlines()
    lines[line - 1] = new
    return "\n".join(lines) + "\n"


def error_of(text: str) -> str:
    with pytest.raises(CatalogFileError) as caught:
        parse_catalog(text)
    return str(caught.value)


def test_a_valid_file_parses_into_providers_and_models_with_exact_prices() -> None:
    providers, models = parse_catalog(VALID)
    assert [p.slug for p in providers] == ["alpha", "claude"]
    assert providers[1].kind is ProviderKind.ANTHROPIC
    assert providers[1].base_url == "https://claude.example/v1"
    chat, embed = models
    assert chat.aliases == ("chat",)
    assert chat.offers[0].input_per_mtok == Decimal("0.15")
    assert str(chat.offers[0].output_per_mtok) == "0.60"  # from the source text, never through float
    assert chat.offers[1].input_per_mtok == Decimal(3)
    assert embed.max_output_tokens == 0 and embed.aliases == ()
    assert catalog_problems(providers, models) == []


@pytest.mark.parametrize(("line", "new", "expected"), [
    (2, "  - slug: Alpha_1", "line 2: providers[0].slug: must match ^[a-z0-9-]+$"),
    (4, "    kind: grpc", "line 4: providers[0].kind: must be one of: openai, anthropic"),
    (5, "    base_url: ftp://alpha.example", "line 5: providers[0].base_url: must be an http(s) URL"),
    (5, "    base_url: alpha.example", "line 5: providers[0].base_url: must be an http(s) URL"),
    (6, "    api_key_env: alpha_key", "line 6: providers[0].api_key_env: must match ^[A-Z][A-Z0-9_]*$"),
    (3, "    nam: Alpha", "line 3: providers[0].nam: unknown field"),
    (7, "  - slug: alpha", "line 7: providers[1].slug: provider alpha is declared twice"),
    (13, "  - id: ''", "line 13: models[0].id: must be a non-empty string"),
    (21, "  - id: acme/chat", "line 21: models[1].id: model acme/chat is already declared at models[0]"),
    (14, "    name: 42", "line 14: models[0].name: must be a non-empty string"),
    (15, "    context_length: 0", "line 15: models[0].context_length: must be a positive integer"),
    (15, "    context_length: 1.5", "line 15: models[0].context_length: must be a positive integer"),
    (16, "    max_output_tokens: -1", "line 16: models[0].max_output_tokens: must be a non-negative integer"),
    (17, "    aliases: [acme/embed]", "line 17: models[0].aliases[0]: alias acme/embed is a model id"),
    (17, "    aliases: chat", "line 17: models[0].aliases: must be a list"),
    (17, "    extra: true", "line 17: models[0].extra: unknown field"),
    (19, "      - {provider: beta, native_id: chat-1, input_per_mtok: 0.15, output_per_mtok: 0.60}",
     "line 19: models[0].offers[0].provider: provider beta is not declared under providers"),
    (20, "      - {provider: alpha, native_id: x, input_per_mtok: 1, output_per_mtok: 1}",
     "line 20: models[0].offers[1].provider: provider alpha already has an offer for this model"),
    (19, "      - {provider: alpha, native_id: '', input_per_mtok: 0.15, output_per_mtok: 0.60}",
     "line 19: models[0].offers[0].native_id: must be a non-empty string"),
    (19, "      - {provider: alpha, native_id: chat-1, input_per_mtok: -0.15, output_per_mtok: 0.60}",
     "line 19: models[0].offers[0].input_per_mtok: must be a non-negative number"),
    (19, "      - {provider: alpha, native_id: chat-1, input_per_mtok: free, output_per_mtok: 0.60}",
     "line 19: models[0].offers[0].input_per_mtok: must be a non-negative number"),
    (19, "      - {provider: alpha, native_id: chat-1, input_per_mtok: .inf, output_per_mtok: 0.60}",
     "line 19: models[0].offers[0].input_per_mtok: must be a non-negative number"),
    (19, "      - {provider: alpha, native_id: chat-1, input_per_mtok: true, output_per_mtok: 0.60}",
     "line 19: models[0].offers[0].input_per_mtok: must be a non-negative number"),
    (19, "      - {provider: alpha, native_id: chat-1, input_per_mtok: 0.15}",
     "line 19: models[0].offers[0].output_per_mtok: is required"),
    (19, "      - {provider: alpha, native_id: chat-1, input_per_mtok: 0.15, output_per_mtok: 0.6, tier: x}",
     "line 19: models[0].offers[0].tier: unknown field"),
    (26, "      []", "line 26: models[1].offers: must list at least one offer"),
])
def test_each_malformed_field_is_named_with_its_line(line: int, new: str, expected: str) -> None:
    assert expected in error_of(broken(line, new)).splitlines()


def test_an_alias_claimed_twice_names_the_second_claim() -> None:
    text = broken(24, "    max_output_tokens: 0\n    aliases: [chat]")
    assert "line 25: models[1].aliases[0]: alias chat already belongs to acme/chat" in error_of(text)


def test_a_missing_field_names_the_item_that_lacks_it() -> None:
    text = VALID.replace("    context_length: 8192\n", "")
    assert error_of(text) == "line 21: models[1].context_length: is required"


def test_every_problem_is_reported_at_once_in_line_order() -> None:
    text = broken(15, "    context_length: 0").replace("kind: anthropic", "kind: soap")
    assert error_of(text).splitlines() == [
        "line 9: providers[1].kind: must be one of: openai, anthropic",
        "line 15: models[0].context_length: must be a positive integer",
    ]


@pytest.mark.parametrize(("text", "expected"), [
    ("", "line 1: (file): is empty; expected providers and models"),
    ("providers: [\n", "line 2: invalid YAML"),
    ("providers:\n  - slug: a\n models: []\n", "line 3: invalid YAML"),
    ("- 1\n- 2\n", "line 1: (file): must be a mapping"),
    ("providers: []\nmodels: []\n", "line 1: providers: must not be empty"),
    ("models: []\n", "line 1: providers: is required"),
])
def test_a_file_that_is_not_a_catalog_at_all_says_where(text: str, expected: str) -> None:
    assert error_of(text).startswith(expected)


def test_a_missing_file_is_a_catalog_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogFileError, match="cannot read"):
        load_catalog_file(tmp_path / "nope.yaml")


def test_the_default_catalog_loads_and_is_big_enough_and_never_free() -> None:
    providers, models = load_catalog_file(DEFAULT_CATALOG)
    assert len(providers) >= 20
    assert len(models) >= 60
    assert sum(len(m.offers) >= 2 for m in models) > len(models) / 2
    assert catalog_problems(providers, models) == []
    for m in models:
        for o in m.offers:
            assert o.priced
            assert o.input_per_mtok > 0, f"{m.id} via {o.provider} would be served free"  # type: ignore[operator]
            if m.max_output_tokens > 0:  # embedding models produce no output tokens
                assert o.output_per_mtok > 0, f"{m.id} via {o.provider}"  # type: ignore[operator]
