"""CodeHost over GitHub's REST API with aiohttp (no local git in the server): read the base branch's
ref, create the fix branch, write each file through the contents API (with the current blob sha
when the file exists), open a draft pull request; read a pull request's state."""

from __future__ import annotations

import base64
from typing import Any

import aiohttp

from domain.fixes import PullRequest, PullRequestFailed
from ports.fixes import PullRequestState

API = "https://api.github.com"


class GitHubCodeHost:
    def __init__(self, token: str | None, repository: str | None, *, base_branch: str = "main",
                 api_url: str = API, timeout_s: float = 30.0) -> None:
        self._token = token
        self._repo = repository if repository and repository.count("/") == 1 else None
        self._base = base_branch
        self._api = api_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    @property
    def configured(self) -> bool:
        return bool(self._token and self._repo)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None,
                    ok: tuple[int, ...] = (200, 201)) -> tuple[int, Any]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout, headers={
                "Authorization": f"Bearer {self._token}", "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28", "User-Agent": "gatewayz-error-monitor"})
        url = f"{self._api}/repos/{self._repo}{path}"
        try:
            async with self._session.request(method, url, json=body) as resp:
                data = await resp.json(content_type=None) if resp.content_length != 0 else None
                if resp.status not in ok:
                    raise PullRequestFailed(f"GitHub answered HTTP {resp.status} to {method} {path.split('?')[0]}")
                return resp.status, data
        except aiohttp.ClientError as exc:
            raise PullRequestFailed(f"GitHub unreachable: {type(exc).__name__}") from exc
        except TimeoutError as exc:
            raise PullRequestFailed("GitHub timed out") from exc

    async def open_draft(self, *, branch: str, title: str, body: str, files: dict[str, str]) -> PullRequest:
        if not self.configured:
            raise PullRequestFailed("GitHub not configured")
        _, ref = await self._call("GET", f"/git/ref/heads/{self._base}")
        await self._call("POST", "/git/refs", {"ref": f"refs/heads/{branch}", "sha": ref["object"]["sha"]})
        for path, content in files.items():
            status, current = await self._call("GET", f"/contents/{path}?ref={branch}", ok=(200, 404))
            put: dict[str, Any] = {"message": f"gatewayz: propose a fix in {path}", "branch": branch,
                                   "content": base64.b64encode(content.encode()).decode()}
            if status == 200 and isinstance(current, dict) and current.get("sha"):
                put["sha"] = current["sha"]
            await self._call("PUT", f"/contents/{path}", put)
        _, pr = await self._call("POST", "/pulls", {"title": title, "body": body, "head": branch,
                                                     "base": self._base, "draft": True})
        return PullRequest(number=int(pr["number"]), url=str(pr["html_url"]), branch=branch)

    async def state(self, number: int) -> PullRequestState:
        _, pr = await self._call("GET", f"/pulls/{number}")
        if pr.get("merged") or pr.get("merged_at"):
            return "merged"
        return "closed" if pr.get("state") == "closed" else "open"
