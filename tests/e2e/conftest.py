"""Session fixtures of the end-to-end suites: one stack of real processes for all of them."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from gatewayz.migrations import migrate
from tests.conftest import _admin_sql, in_thread, settings_env
from tests.e2e.stack import ROOT, Stack, cli, start_fake, start_gateway, wait_for_models, wait_healthy
from tests.integration.inference_kit import CATALOG, provider_env
from tests.services import unique_name


@pytest.fixture(scope="session")
def e2e_database_url(postgres_server_url: str) -> Iterator[str]:
    """A database of its own, so no other test's catalog load can retire this suite's models."""
    name = unique_name("gatewayz_e2e")
    in_thread(asyncio.run, _admin_sql(postgres_server_url, f'CREATE DATABASE "{name}"'))
    yield f"{postgres_server_url.rsplit('/', 1)[0]}/{name}"
    in_thread(asyncio.run, _admin_sql(postgres_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def stack(e2e_database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    logs = tmp_path_factory.mktemp("e2e-logs")
    fake = start_fake(logs)
    processes = [fake]
    try:
        keep = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
        env = {**keep, **settings_env(DATABASE_URL=e2e_database_url, REDIS_URL=redis_url,
                                      REDIS_PREFIX=unique_name("gwe2e") + ":", LOG_FORMAT="json"),
               **provider_env(fake.url, UPSTREAM_READ_TIMEOUT_S=10), "PYTHONPATH": str(ROOT)}
        env.pop("ADMIN_API_KEY", None)
        in_thread(migrate, e2e_database_url)
        gateway = start_gateway("gateway", env, logs)
        processes.append(gateway)
        with ThreadPoolExecutor(3) as pool:  # the CLI's catalog load reaches the running server by broadcast
            loading = pool.submit(cli, env, "catalog", "load", str(CATALOG))
            user, admin = pool.map(lambda args: cli(env, "users", "create", *args),
                                   [("--email", "sdk@example.com", "--credits", "100"),
                                    ("--email", "ops@example.com", "--admin")])
            assert loading.result()["models"] == 6 and loading.result()["providers"] == 4
        wait_healthy(gateway)
        wait_for_models(gateway, 6)
        yield Stack(fake=fake.url, gateway=gateway.url, key=user["api_key"], admin_key=admin["api_key"], env=env,
                    logs=logs, processes=processes)
    finally:
        for process in reversed(processes):
            process.stop()
