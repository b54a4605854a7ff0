"""A fake of the GitHub REST endpoints the fix flow uses: refs, contents, pulls and a pull's state.
It keeps a tiny repository in memory (branches -> {path: (content, sha)}) and records every request
with its headers and body."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class GitHubRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeGitHub:
    repository: str = "acme/gatewayz"
    token: str = "ghp_faketokenfaketoken123"
    host: str = "127.0.0.1"
    port: int = 0
    branches: dict[str, dict[str, tuple[str, str]]] = field(default_factory=lambda: {"main": {}})
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[GitHubRequest] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def put_file(self, branch: str, path: str, content: str) -> str:
        sha = hashlib.sha1(content.encode()).hexdigest()
        self.branches[branch][path] = (content, sha)
        return sha

    def merge(self, number: int) -> None:
        self.pulls[number].update(state="closed", merged=True, merged_at="2026-05-01T12:00:00Z")

    def close(self, number: int) -> None:
        self.pulls[number].update(state="closed", merged=False, merged_at=None)

    async def __aenter__(self) -> FakeGitHub:
        app = web.Application(middlewares=[self._record])
        base = f"/repos/{self.repository}"
        app.router.add_get(base + "/git/ref/heads/{branch}", self._get_ref)
        app.router.add_post(base + "/git/refs", self._create_ref)
        app.router.add_get(base + "/contents/{path:.+}", self._get_contents)
        app.router.add_put(base + "/contents/{path:.+}", self._put_contents)
        app.router.add_post(base + "/pulls", self._create_pull)
        app.router.add_get(base + "/pulls/{number}", self._get_pull)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        raw = await request.read()
        self.requests.append(GitHubRequest(request.method, request.path_qs,
                                           {k.lower(): v for k, v in request.headers.items()},
                                           json.loads(raw) if raw else None))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"message": "Bad credentials"}, status=401)
        return await handler(request)  # type: ignore[no-any-return]

    def _head(self, branch: str) -> str:
        return hashlib.sha1(json.dumps(sorted(self.branches[branch].items())).encode()).hexdigest()

    async def _get_ref(self, request: web.Request) -> web.Response:
        branch = request.match_info["branch"]
        if branch not in self.branches:
            return web.json_response({"message": "Not Found"}, status=404)
        return web.json_response({"ref": f"refs/heads/{branch}",
                                  "object": {"sha": self._head(branch), "type": "commit"}})

    async def _create_ref(self, request: web.Request) -> web.Response:
        body = await request.json()
        name = body["ref"].removeprefix("refs/heads/")
        if name in self.branches:
            return web.json_response({"message": "Reference already exists"}, status=422)
        source = next(b for b in self.branches if self._head(b) == body["sha"])
        self.branches[name] = dict(self.branches[source])
        return web.json_response({"ref": body["ref"], "object": {"sha": body["sha"]}}, status=201)

    async def _get_contents(self, request: web.Request) -> web.Response:
        branch = request.query.get("ref", "main")
        found = self.branches.get(branch, {}).get(request.match_info["path"])
        if found is None:
            return web.json_response({"message": "Not Found"}, status=404)
        content, sha = found
        return web.json_response({"type": "file", "sha": sha, "encoding": "base64",
                                  "content": base64.b64encode(content.encode()).decode()})

    async def _put_contents(self, request: web.Request) -> web.Response:
        body = await request.json()
        path, branch = request.match_info["path"], body["branch"]
        existing = self.branches[branch].get(path)
        if existing is not None and body.get("sha") != existing[1]:
            return web.json_response({"message": "sha does not match"}, status=409)
        if existing is None and body.get("sha"):
            return web.json_response({"message": "no such file"}, status=422)
        sha = self.put_file(branch, path, base64.b64decode(body["content"]).decode())
        return web.json_response({"content": {"path": path, "sha": sha}}, status=200 if existing else 201)

    async def _create_pull(self, request: web.Request) -> web.Response:
        body = await request.json()
        number = len(self.pulls) + 1
        self.pulls[number] = {"number": number, "state": "open", "merged": False, "merged_at": None,
                              "draft": body.get("draft", False), "title": body["title"], "body": body["body"],
                              "head": body["head"], "base": body["base"],
                              "html_url": f"https://github.com/{self.repository}/pull/{number}"}
        return web.json_response(self.pulls[number], status=201)

    async def _get_pull(self, request: web.Request) -> web.Response:
        pull = self.pulls.get(int(request.match_info["number"]))
        if pull is None:
            return web.json_response({"message": "Not Found"}, status=404)
        return web.json_response(pull)
