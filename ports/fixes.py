"""Proposing a fix for an error pattern (an LLM), and opening it as a draft pull request."""

from __future__ import annotations

from typing import Literal, Protocol

from domain.fixes import FixProposal, FixRequest, PullRequest

PullRequestState = Literal["open", "merged", "closed"]


class FixGenerator(Protocol):
    @property
    def configured(self) -> bool:
        """A key is set (checked by its shape only: no billable call at startup)."""
        ...

    async def propose(self, request: FixRequest) -> FixProposal:
        """Raises FixGenerationFailed (unreachable, refused, or a reply that is not the expected JSON)."""
        ...


class CodeHost(Protocol):
    @property
    def configured(self) -> bool: ...

    async def open_draft(self, *, branch: str, title: str, body: str, files: dict[str, str]) -> PullRequest:
        """Branch from the base branch, write every file, open a draft pull request. Raises PullRequestFailed."""
        ...

    async def state(self, number: int) -> PullRequestState: ...
