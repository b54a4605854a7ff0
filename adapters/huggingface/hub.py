"""ModelHub over huggingface_hub's HfApi: its synchronous call runs in a worker thread under a
timeout, so a slow Hub never blocks the event loop. `endpoint` (HF_ENDPOINT) points tests at a fake Hub."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError, HFValidationError, RepositoryNotFoundError

from domain.errors import NotFound, UpstreamFailed


def _plain(value: Any) -> Any:
    return msgspec.to_builtins(value, enc_hook=str, builtin_types=())


class HuggingFaceHub:
    def __init__(self, endpoint: str | None, token: str | None, *, timeout_s: float = 10.0) -> None:
        self._api = HfApi(endpoint=endpoint, token=token or False)
        self._timeout = timeout_s

    def _fetch(self, repo_id: str) -> dict[str, Any]:
        info = self._api.model_info(repo_id, timeout=self._timeout)
        return {k: _plain(v) for k, v in vars(info).items() if not k.startswith("_")}

    async def model_info(self, repo_id: str) -> dict[str, Any]:
        try:
            async with asyncio.timeout(self._timeout + 1):
                return await asyncio.to_thread(self._fetch, repo_id)
        except (RepositoryNotFoundError, HFValidationError) as exc:  # an id the Hub cannot hold is not there either
            raise NotFound("Model not found on Hugging Face") from exc
        except HfHubHTTPError as exc:
            status = getattr(getattr(exc, "response", None), "status_code", None)
            if status == 404:
                raise NotFound("Model not found on Hugging Face") from exc
            raise UpstreamFailed(f"Hugging Face answered {status}", status=502) from exc
        except (TimeoutError, OSError) as exc:
            raise UpstreamFailed("Hugging Face did not answer in time", status=502) from exc
        except Exception as exc:  # the client's transport errors (httpx) and anything else: the Hub failed
            raise UpstreamFailed(f"Hugging Face failed: {type(exc).__name__}", status=502) from exc
