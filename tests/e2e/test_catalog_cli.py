"""`gatewayz catalog load` as a process against the embedded SQLite, as `make run` uses it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from adapters.postgres.catalog import PostgresCatalogRepository
from adapters.postgres.engine import create_engine
from domain.catalog import Catalog
from gatewayz.cli import DEFAULT_CATALOG
from tests.conftest import settings_env
from tests.harness import running_app

ROOT = Path(__file__).resolve().parents[2]


def gatewayz(database_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings_env(DATABASE_URL=database_url), "PYTHONPATH": str(ROOT)}
    env.pop("REDIS_URL", None)
    return subprocess.run([sys.executable, "-m", "gatewayz", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


async def stored(database_url: str) -> Catalog:
    engine = create_engine(database_url)
    try:
        return await PostgresCatalogRepository(engine).load()
    finally:
        await engine.dispose()


async def test_loading_the_default_catalog_twice_is_idempotent(sqlite_url: str, tmp_path: Path) -> None:
    first = gatewayz(sqlite_url, tmp_path, "catalog", "load", "--default", "--json")
    assert first.returncode == 0, first.stderr
    counts = json.loads(first.stdout)
    assert counts["providers"] >= 20 and counts["models"] >= 60 and counts["deactivated"] == 0
    after_first = await stored(sqlite_url)
    second = gatewayz(sqlite_url, tmp_path, "catalog", "load", "--default", "--json")
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == counts
    assert await stored(sqlite_url) == after_first
    plain = gatewayz(sqlite_url, tmp_path, "catalog", "load", str(DEFAULT_CATALOG))
    assert plain.returncode == 0 and "models: " in plain.stdout


async def test_a_malformed_file_exits_non_zero_naming_the_line_and_changes_nothing(
        sqlite_url: str, tmp_path: Path) -> None:
    assert gatewayz(sqlite_url, tmp_path, "catalog", "load", "--default").returncode == 0
    before = await stored(sqlite_url)
    lines = DEFAULT_CATALOG.read_text().splitlines()
    target = next(i for i, line in enumerate(lines) if "context_length:" in line)
    lines[target] = lines[target].split(":")[0] + ": lots"
    bad = tmp_path / "bad.yaml"
    bad.write_text("\n".join(lines) + "\n")
    result = gatewayz(sqlite_url, tmp_path, "catalog", "load", str(bad))
    assert result.returncode == 1
    assert f"line {target + 1}: models[0].context_length: must be a positive integer" in result.stderr
    assert await stored(sqlite_url) == before


async def test_a_model_removed_from_the_file_is_retired_and_leaves_the_list(sqlite_url: str, tmp_path: Path) -> None:
    text = DEFAULT_CATALOG.read_text()
    start = text.index("  - id: openai/gpt-4o\n")
    end = text.index("  - id: ", start + 1)
    smaller = tmp_path / "smaller.yaml"
    smaller.write_text(text[:start] + text[end:])
    assert gatewayz(sqlite_url, tmp_path, "catalog", "load", "--default").returncode == 0
    result = gatewayz(sqlite_url, tmp_path, "catalog", "load", str(smaller), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["deactivated"] == 1
    async with running_app(sqlite_url) as r:
        ids = {m["id"] for m in (await r.client.get("/v1/models")).json()["data"]}
        assert "openai/gpt-4o-mini" in ids and "openai/gpt-4o" not in ids
        assert (await r.client.get("/v1/models/gpt-4o")).status_code == 404
