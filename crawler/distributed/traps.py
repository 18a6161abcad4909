"""Trap guards that count crawl-wide: :class:`crawler.scope.TrapGuard`'s counters in Redis.

Each worker sees only the links of the pages it fetched; a calendar spread over several
workers would get the per-pattern bound once per worker. Here the counts are kept in Redis,
under SHA-1 keys (the same in every worker), and each page's links are judged in one call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crawler.distributed.state import SharedState, stable_key
from crawler.scope import NUMBERED_PATTERN, QUERY_VARIANTS, TrapGuard

_VERDICTS = {0: None, 1: QUERY_VARIANTS, 2: NUMBERED_PATTERN}


@dataclass
class SharedTrapGuard(TrapGuard):
    state: SharedState | None = None
    #: URLs allowed before (by any worker): not asked again.
    _allowed: set[str] = field(default_factory=set)

    def refusal(self, url: str) -> str | None:
        return self.refusals([url])[0]

    def refusals(self, urls: list[str]) -> list[str | None]:
        assert self.state is not None
        verdicts: list[str | None] = [None] * len(urls)
        asked: list[int] = []
        checks = []
        for i, url in enumerate(urls):
            if url in self._allowed:
                continue
            refused = self.shape_refusal(url)
            if refused is not None:
                verdicts[i] = refused
                continue
            path_key, pattern, numbered = self.counted_as(url)
            checks.append((stable_key(url), stable_key(path_key) if path_key else "",
                           stable_key(pattern), numbered, self.max_query_variants,
                           self.max_per_pattern))  # fmt: skip
            asked.append(i)
        for i, verdict in zip(asked, self.state.trap_verdicts(checks), strict=True):
            verdicts[i] = _VERDICTS[verdict]
            if verdict == 0:
                self._allowed.add(urls[i])
        return verdicts
