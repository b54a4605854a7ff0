"""GenerateFix (#1754, #1755, the scan's auto-fix): a proposed fix for a stored pattern, and for
fixes that ask for it a draft pull request, within the budget (ERROR_MONITOR_MAX_FIXES_PER_HOUR
generations per hour, fleet-wide, counted from the stored fixes; at most 3 at once per process).

Every attempt is stored, failed ones with their error, so the budget counts what was spent and an
outcome in the background can be followed on #1752."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import msgspec

from domain.error_monitoring import ErrorPattern, FixStatus, GeneratedFix
from domain.errors import GatewayError, NotFound, RateLimited, ServiceUnavailable
from domain.fixes import (
    DEFAULT_ALLOWED_PATHS,
    MAX_MESSAGE_CHARS,
    MAX_STACK_CHARS,
    FixGenerationFailed,
    FixRequest,
    outbound,
    path_allowed,
)
from domain.logs import LogsNotEnabled
from domain.services.error_monitor import ScanErrors
from ports.clock import Clock
from ports.error_monitoring import ErrorPatternStore, FixStore
from ports.fixes import CodeHost, FixGenerator

GITHUB_NOT_CONFIGURED = "GitHub not configured"


class FixGeneratorNotConfigured(ServiceUnavailable):
    def __init__(self) -> None:
        super().__init__("Fix generator not configured", reason="fix_generator")


class GenerateFix:
    def __init__(self, patterns: ErrorPatternStore, fixes: FixStore, generator: FixGenerator, host: CodeHost,
                 clock: Clock, *, max_per_hour: int = 10, max_concurrent: int = 3,
                 allowed_paths: tuple[str, ...] = DEFAULT_ALLOWED_PATHS) -> None:
        self._patterns = patterns
        self._fixes = fixes
        self._generator = generator
        self._host = host
        self._clock = clock
        self._max_per_hour = max_per_hour
        self._max_concurrent = max_concurrent
        self._allowed = allowed_paths
        self._in_flight = 0
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def configured(self) -> bool:
        return self._generator.configured

    async def find(self, error_id: str) -> ErrorPattern:
        """A pattern key, else the most recently seen pattern whose error_type is `error_id`."""
        pattern = await self._patterns.get(error_id)
        if pattern is None:
            matching = [p for p in await self._patterns.matching([error_id]) if p.error_type == error_id]
            pattern = matching[0] if matching else None
        if pattern is None:
            raise NotFound("Error pattern not found")
        return pattern

    async def now(self, pattern: ErrorPattern) -> GeneratedFix:
        """Synchronously, without a pull request; a failed generation raises FixGenerationFailed."""
        fix = await self._start(pattern)
        try:
            return await self._generate(fix, pattern)
        finally:
            self._in_flight -= 1

    async def in_background(self, pattern: ErrorPattern, *, create_pr: bool = True) -> str:
        """Reserves the budget now, returns the fix's id at once; the outcome is recorded on the fix."""
        fix = await self._start(pattern)
        task = asyncio.create_task(self._background(fix, pattern, create_pr), name=f"gatewayz-fix-{fix.id[:8]}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return fix.id

    async def wait(self) -> None:
        """Every background generation has ended (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _start(self, pattern: ErrorPattern) -> GeneratedFix:
        if not self._generator.configured:
            raise FixGeneratorNotConfigured()
        if self._in_flight >= self._max_concurrent:
            raise RateLimited("Too many fix generations in progress", retry_after=30, code="fix_budget_exceeded")
        now = self._clock.now()
        if await self._fixes.count_since(now - timedelta(hours=1)) >= self._max_per_hour:
            raise RateLimited("Fix generation budget exhausted for this hour", retry_after=3600,
                              code="fix_budget_exceeded")
        self._in_flight += 1
        try:
            return await self._fixes.save(GeneratedFix(
                id=str(uuid.uuid4()), error_pattern_id=pattern.key, error_message=pattern.message,
                error_category=str(pattern.category), severity=str(pattern.severity), generated_at=now))
        except BaseException:
            self._in_flight -= 1
            raise

    async def _generate(self, fix: GeneratedFix, pattern: ErrorPattern) -> GeneratedFix:
        request = FixRequest(error_type=outbound(pattern.error_type, 200), category=str(pattern.category),
                             severity=str(pattern.severity), message=outbound(pattern.message, MAX_MESSAGE_CHARS),
                             stack_trace=outbound(pattern.stack_trace, MAX_STACK_CHARS),
                             file=pattern.file, line=pattern.line, function=pattern.function, count=pattern.count)
        try:
            proposal = await self._generator.propose(request)
        except FixGenerationFailed as exc:
            await self._fixes.save(msgspec.structs.replace(fix, status=FixStatus.FAILED, error=exc.message))
            raise
        await self._patterns.fix_generated()
        return await self._fixes.save(msgspec.structs.replace(
            fix, analysis=proposal.analysis, proposed_fix=proposal.proposed_fix, code_changes=proposal.code_changes,
            files_affected=proposal.files_affected, model=proposal.model, input_tokens=proposal.input_tokens,
            output_tokens=proposal.output_tokens))

    async def _background(self, fix: GeneratedFix, pattern: ErrorPattern, create_pr: bool) -> None:
        current = fix
        try:
            current = await self._generate(fix, pattern)
            if create_pr:
                await self.open_pull_request(current, pattern)
        except FixGenerationFailed:
            pass  # recorded on the fix
        except GatewayError as exc:
            await self._fixes.save(msgspec.structs.replace(current, status=FixStatus.FAILED, error=exc.message))
        finally:
            self._in_flight -= 1

    async def open_pull_request(self, fix: GeneratedFix, pattern: ErrorPattern) -> GeneratedFix:
        """Only for changes inside the allowed paths; GitHub not configured leaves the fix pending."""
        refused = [p for p in fix.code_changes if not path_allowed(p, self._allowed)]
        if refused or not fix.code_changes:
            reason = f"No pull request: paths outside the allowed ones: {', '.join(sorted(refused))}" if refused \
                else "No pull request: the fix changes no file"
            return await self._fixes.save(msgspec.structs.replace(fix, error=reason))
        if not self._host.configured:
            return await self._fixes.save(msgspec.structs.replace(fix, error=GITHUB_NOT_CONFIGURED))
        title = f"fix({pattern.category}): {pattern.message[:60]}"
        body = (f"{fix.proposed_fix}\n\n## Analysis\n\n{fix.analysis}\n\n"
                f"Pattern `{pattern.key}` seen {pattern.count} times.")
        pr = await self._host.open_draft(branch=f"gatewayz/fix-{fix.id[:8]}", title=outbound(title, 200),
                                         body=outbound(body, 60_000), files=fix.code_changes)
        return await self._fixes.save(msgspec.structs.replace(fix, status=FixStatus.TESTING, pr_url=pr.url,
                                                              pr_number=pr.number, branch=pr.branch, error=None))


class RefreshPullRequests:
    """The loop's job (every 10 minutes): merged -> `merged`, closed unmerged -> `failed`."""

    def __init__(self, fixes: FixStore, host: CodeHost) -> None:
        self._fixes = fixes
        self._host = host

    async def __call__(self) -> int:
        if not self._host.configured:
            return 0
        changed = 0
        for fix in await self._fixes.with_open_pull_requests():
            assert fix.pr_number is not None
            state = await self._host.state(fix.pr_number)
            if state == "open":
                continue
            await self._fixes.save(msgspec.structs.replace(
                fix, status=FixStatus.MERGED if state == "merged" else FixStatus.FAILED))
            changed += 1
        return changed


class ScheduledScan:
    """The loop's scan job: scan from the cursor, then, when auto-fix is on and a generator is
    configured, start fixes with pull requests for the fixable patterns, within the budget."""

    def __init__(self, scan: ScanErrors, store: ErrorPatternStore, generate: GenerateFix) -> None:
        self._scan = scan
        self._store = store
        self._generate = generate

    async def __call__(self) -> int:
        try:
            result = await self._scan(hours=1)
        except LogsNotEnabled:
            return 0
        if not (await self._store.state()).auto_fix or not self._generate.configured:
            return 0
        started = 0
        for pattern in (p for p in result.patterns if p.fixable):
            try:
                await self._generate.in_background(pattern)
            except RateLimited:
                break
            started += 1
        return started
