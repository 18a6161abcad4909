"""A crawl's shared state in Redis: the frontier, leases, trap counters and validators.

Several workers (``reviewarc crawl --redis URL --worker NAME``) share one crawl through the
keys below, all under ``reviewarc:{CRAWL_KEY}:`` (the crawl key names the source or the
seeds, so every worker started with the same ones joins the same crawl):

``seen``
    SET of the fingerprints of every request the crawl has queued: exact, never a Bloom
    filter (a false positive would drop a URL without a word).
``q:HOST``, ``ready``
    A ZSET of queued requests per host, ordered by Scrapy's priority (breadth-first: the
    spider's priority falls with depth), then first in, first out; ``ready`` is the SET of
    hosts with queued requests.
``lease:HOST``, ``hosts:WORKER``
    The worker crawling a host (one at a time, so per-host concurrency, the download delay,
    AutoThrottle and robots.txt stay each one worker's), and the hosts a worker holds.
``inflight:WORKER``
    HASH fingerprint → request of the requests a worker took and has not handled.
``unsealed:WORKER``
    HASH fingerprint → the WARC file of requests a worker handled (their records written,
    the requests they led to queued) whose WARC file is still open. When that file is
    closed they are *sealed*: forgotten, done for good.
``workers``, ``alive:WORKER``
    The workers of the crawl, and a key per worker that expires unless its heartbeat renews
    it. A worker whose key expired is dead: any worker's heartbeat puts its in-flight and
    unsealed requests back in the queue (their WARC file was never closed, so nothing of
    them reaches the archive) and frees its hosts.
``count``
    HASH of counters kept with every step: ``queued``, ``inflight``, ``unsealed``.
``traps``, ``trapseen``
    Trap guard counters crawl-wide (:class:`crawler.scope.TrapGuard`'s), keyed by SHA-1.
``robots:WORKER``, ``robots``
    HASH host:port → the robots.txt a worker fetched (status, body), so a host that moves to
    another worker is not asked again.
``last:WORKER``, ``last``
    HASH URL → the validators of the URL's latest full response captured in this crawl.
    Both are kept per worker while it runs: a dead worker's are dropped with its unindexed
    file; a worker that leaves cleanly (its files closed) merges its own into ``robots``
    and ``last``.
``run``
    The crawl run's id, written into every worker's warcinfo records.

Every step that touches several keys is one Lua script, so it is atomic. The last worker
out of a finished crawl deletes every key; no other close touches shared state but its own.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

#: Length of a request fingerprint (hex SHA-1), which starts each queued member.
FP_LEN = 40

_PUSH = r"""
local p = ARGV[1]
local out = {}
for i = 2, #ARGV, 4 do
  local fp, host, priority, request = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3]
  if redis.call('SADD', p .. 'seen', fp) == 1 then
    local seq = redis.call('HINCRBY', p .. 'count', 'seq', 1)
    redis.call('ZADD', p .. 'q:' .. host, -priority * 1e10 + seq, fp .. request)
    redis.call('SADD', p .. 'ready', host)
    redis.call('HINCRBY', p .. 'count', 'queued', 1)
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
"""

_TAKE_FROM = r"""
local function take(p, w, host, want, out)
  local q = p .. 'q:' .. host
  local members = redis.call('ZRANGE', q, 0, want - 1)
  for _, member in ipairs(members) do
    redis.call('ZREM', q, member)
    redis.call('HSET', p .. 'inflight:' .. w, string.sub(member, 1, 40), string.sub(member, 41))
    out[#out + 1] = member
  end
  local n = #members
  if n > 0 then
    redis.call('HINCRBY', p .. 'count', 'queued', -n)
    redis.call('HINCRBY', p .. 'count', 'inflight', n)
  end
  if redis.call('ZCARD', q) == 0 then redis.call('SREM', p .. 'ready', host) end
end
"""

# ARGV: prefix, worker, new hosts wanted, batch for a new host, then host, want pairs.
_TAKE = (
    _TAKE_FROM
    + r"""
local p, w = ARGV[1], ARGV[2]
local new, batch = tonumber(ARGV[3]), tonumber(ARGV[4])
local out = {}
for i = 5, #ARGV, 2 do
  local host, want = ARGV[i], tonumber(ARGV[i + 1])
  if want > 0 and redis.call('GET', p .. 'lease:' .. host) == w then
    take(p, w, host, want, out)
  end
end
if new > 0 then
  for _, host in ipairs(redis.call('SRANDMEMBER', p .. 'ready', 64)) do
    if new <= 0 then break end
    if redis.call('SETNX', p .. 'lease:' .. host, w) == 1 then
      redis.call('SADD', p .. 'hosts:' .. w, host)
      new = new - 1
      take(p, w, host, batch, out)
    end
  end
end
return out
"""
)

# ARGV: prefix, worker, file (or ''), then fingerprints handled.
_HANDLED = r"""
local p, w, file = ARGV[1], ARGV[2], ARGV[3]
local n = 0
for i = 4, #ARGV do
  local request = redis.call('HGET', p .. 'inflight:' .. w, ARGV[i])
  if request then
    redis.call('HDEL', p .. 'inflight:' .. w, ARGV[i])
    redis.call('HSET', p .. 'unsealed:' .. w, ARGV[i], file .. '\n' .. request)
    n = n + 1
  end
end
if n > 0 then
  redis.call('HINCRBY', p .. 'count', 'inflight', -n)
  redis.call('HINCRBY', p .. 'count', 'unsealed', n)
end
return n
"""

# ARGV: prefix, worker, file ('' = every unsealed request of the worker).
_SEAL = r"""
local p, w, file = ARGV[1], ARGV[2], ARGV[3]
local key = p .. 'unsealed:' .. w
local n = 0
if file == '' then
  n = redis.call('HLEN', key)
  redis.call('DEL', key)
else
  local all = redis.call('HGETALL', key)
  for i = 1, #all, 2 do
    if string.sub(all[i + 1], 1, #file + 1) == file .. '\n' then
      redis.call('HDEL', key, all[i])
      n = n + 1
    end
  end
end
if n > 0 then redis.call('HINCRBY', p .. 'count', 'unsealed', -n) end
return n
"""

_REQUEUE_FN = r"""
local function requeue(p, w, which)
  local key = p .. which .. ':' .. w
  local all = redis.call('HGETALL', key)
  local n = 0
  for i = 1, #all, 2 do
    local fp, value = all[i], all[i + 1]
    local request = value
    if which == 'unsealed' then
      request = string.sub(value, string.find(value, '\n', 1, true) + 1)
    end
    if request then
      local host = cjson.decode(request)['h']
      local seq = redis.call('HINCRBY', p .. 'count', 'seq', 1)
      redis.call('ZADD', p .. 'q:' .. host, -1e12 + seq, fp .. request)
      redis.call('SADD', p .. 'ready', host)
      n = n + 1
    end
  end
  redis.call('DEL', key)
  local count = #all / 2
  if count > 0 then redis.call('HINCRBY', p .. 'count', which, -count) end
  if n > 0 then redis.call('HINCRBY', p .. 'count', 'queued', n) end
  return n
end
local function free_hosts(p, w)
  for _, host in ipairs(redis.call('SMEMBERS', p .. 'hosts:' .. w)) do
    if redis.call('GET', p .. 'lease:' .. host) == w then
      redis.call('DEL', p .. 'lease:' .. host)
    end
  end
  redis.call('DEL', p .. 'hosts:' .. w)
end
"""

# Dead workers (no alive key): their requests back in the queue, their hosts freed.
# ARGV: prefix. Returns the names of the workers reaped.
_REAP = (
    _REQUEUE_FN
    + r"""
local p = ARGV[1]
local reaped = {}
for _, w in ipairs(redis.call('SMEMBERS', p .. 'workers')) do
  if redis.call('EXISTS', p .. 'alive:' .. w) == 0 then
    requeue(p, w, 'inflight')
    requeue(p, w, 'unsealed')
    free_hosts(p, w)
    -- What it fetched is in a file that is never indexed: nobody may rely on it.
    redis.call('DEL', p .. 'robots:' .. w, p .. 'last:' .. w)
    redis.call('SREM', p .. 'workers', w)
    reaped[#reaped + 1] = w
  end
end
return reaped
"""
)

# ARGV: prefix, worker, ttl ms, run id. Returns run id, in-flight and unsealed of the worker.
_REGISTER = r"""
local p, w = ARGV[1], ARGV[2]
redis.call('SET', p .. 'alive:' .. w, '1', 'PX', tonumber(ARGV[3]))
redis.call('SADD', p .. 'workers', w)
redis.call('SETNX', p .. 'run', ARGV[4])
return {redis.call('GET', p .. 'run'), redis.call('HLEN', p .. 'inflight:' .. w),
        redis.call('HLEN', p .. 'unsealed:' .. w)}
"""

# A worker leaving: what it had not handled back in the queue, its hosts freed, itself
# out. ARGV: prefix, worker, finished (1/0). Returns 1 if it was the last worker of a
# finished crawl (whose keys it then deleted), else 0.
_LEAVE = (
    _REQUEUE_FN
    + r"""
local p, w, finished = ARGV[1], ARGV[2], ARGV[3]
requeue(p, w, 'inflight')
free_hosts(p, w)
-- Its files are closed: what it fetched is everyone's now.
for _, which in ipairs({'robots', 'last'}) do
  local all = redis.call('HGETALL', p .. which .. ':' .. w)
  for i = 1, #all, 2 do redis.call('HSET', p .. which, all[i], all[i + 1]) end
  redis.call('DEL', p .. which .. ':' .. w)
end
redis.call('DEL', p .. 'alive:' .. w)
redis.call('SREM', p .. 'workers', w)
redis.call('SREM', p .. 'leaving', w)
if finished == '1' and redis.call('SCARD', p .. 'workers') == 0 then
  local c = redis.call('HMGET', p .. 'count', 'queued', 'inflight', 'unsealed')
  if (tonumber(c[1]) or 0) == 0 and (tonumber(c[2]) or 0) == 0
     and (tonumber(c[3]) or 0) == 0 then
    local cursor = '0'
    repeat
      local page = redis.call('SCAN', cursor, 'MATCH', p .. '*', 'COUNT', 1000)
      cursor = page[1]
      if #page[2] > 0 then redis.call('DEL', unpack(page[2])) end
    until cursor == '0'
    return 1
  end
end
return 0
"""
)

# A worker about to leave a finished crawl: 1 if every other worker is leaving too (it is
# the last out: its end record says so). ARGV: prefix, worker.
_LEAVING = r"""
local p, w = ARGV[1], ARGV[2]
redis.call('SADD', p .. 'leaving', w)
for _, other in ipairs(redis.call('SMEMBERS', p .. 'workers')) do
  if redis.call('SISMEMBER', p .. 'leaving', other) == 0 then return 0 end
end
return 1
"""

# ARGV: prefix, worker. Frees the worker's hosts that have nothing queued.
# Then host names (those the worker has nothing in flight for).
_RELEASE = r"""
local p, w = ARGV[1], ARGV[2]
local freed = {}
for i = 3, #ARGV do
  local host = ARGV[i]
  if redis.call('GET', p .. 'lease:' .. host) == w then
    redis.call('DEL', p .. 'lease:' .. host)
    redis.call('SREM', p .. 'hosts:' .. w, host)
    freed[#freed + 1] = host
  end
end
return freed
"""

_STATUS = r"""
local p = ARGV[1]
local c = redis.call('HMGET', p .. 'count', 'queued', 'inflight', 'unsealed')
return {tonumber(c[1]) or 0, tonumber(c[2]) or 0, tonumber(c[3]) or 0,
        redis.call('SCARD', p .. 'workers'), redis.call('SCARD', p .. 'ready')}
"""

# Trap guard counts, crawl-wide. ARGV: prefix, then per URL: url key, query key ('' when the
# URL has no query), pattern key, numbered (1/0), variants max, pattern max.
# Returns per URL: 0 allowed, 1 too many query variants, 2 too many of one pattern.
_TRAPS = r"""
local p = ARGV[1]
local out = {}
for i = 2, #ARGV, 6 do
  local url, query, pattern = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local numbered = ARGV[i + 3] == '1'
  local vmax, pmax = tonumber(ARGV[i + 4]), tonumber(ARGV[i + 5])
  local verdict = 0
  if redis.call('SISMEMBER', p .. 'trapseen', url) == 0 then
    local variants = tonumber(redis.call('HGET', p .. 'traps', 'q' .. query)) or 0
    local shapes = tonumber(redis.call('HGET', p .. 'traps', 'p' .. pattern)) or 0
    if query ~= '' and variants >= vmax then
      verdict = 1
    elseif numbered and shapes >= pmax then
      verdict = 2
    else
      redis.call('SADD', p .. 'trapseen', url)
      if query ~= '' then redis.call('HINCRBY', p .. 'traps', 'q' .. query, 1) end
      redis.call('HINCRBY', p .. 'traps', 'p' .. pattern, 1)
    end
  end
  out[#out + 1] = verdict
end
return out
"""


def stable_key(text: str) -> str:
    """A key for ``text`` that is the same in every worker (Python's ``hash()`` is not)."""
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Status:
    queued: int
    inflight: int
    unsealed: int
    workers: int
    ready_hosts: int

    @property
    def idle(self) -> bool:
        """Nothing queued or in flight anywhere: only sealing is left."""
        return self.queued == 0 and self.inflight == 0

    @property
    def finished(self) -> bool:
        return self.idle and self.unsealed == 0


@dataclass(frozen=True)
class Queued:
    """A request as the frontier holds it: fingerprint, host and Scrapy's parts of it."""

    fingerprint: str
    host: str
    data: dict[str, Any]

    @classmethod
    def parse(cls, member: bytes | str) -> Queued:
        text = member.decode("utf-8") if isinstance(member, bytes) else member
        data = json.loads(text[FP_LEN:])
        return cls(text[:FP_LEN], data["h"], data)


def connect(url: str) -> Any:
    """A Redis client for ``url`` (``redis://HOST:PORT/DB``); raises ValueError, in one line,
    when the client is not installed or the server does not answer."""
    try:
        import redis
    except ImportError:
        raise ValueError(
            "--redis needs the Redis client: pip install 'reviewarc[distributed]'"
        ) from None
    try:
        client = redis.StrictRedis.from_url(url, socket_timeout=30, socket_connect_timeout=10)
        client.ping()
    except (redis.RedisError, ValueError, OSError) as e:
        raise ValueError(f"cannot reach Redis at {url}: {e}") from None
    return client


class SharedState:
    """One worker's handle on a crawl's shared state."""

    def __init__(self, client: Any, crawl_key: str, worker: str, lease_ttl: float) -> None:
        self.client = client
        self.prefix = f"reviewarc:{{{crawl_key}}}:"
        self.worker = worker
        self.ttl_ms = max(1000, int(lease_ttl * 1000))
        self._scripts = {
            name: client.register_script(source)
            for name, source in {
                "push": _PUSH, "take": _TAKE, "handled": _HANDLED, "seal": _SEAL,
                "reap": _REAP, "register": _REGISTER, "leave": _LEAVE,
                "release": _RELEASE, "status": _STATUS, "traps": _TRAPS,
                "leaving": _LEAVING,
            }.items()
        }  # fmt: skip
        self.run_id: str | None = None

    def _call(self, name: str, *args: Any) -> Any:
        return self._scripts[name](keys=[], args=[self.prefix, *args])

    def key(self, name: str) -> str:
        return self.prefix + name

    # -- membership ------------------------------------------------------------------

    def register(self) -> tuple[str, int, int]:
        """Join the crawl (starting it if no worker has): its run id, and how many requests
        a run of this worker left in flight and unsealed (a restart takes them back)."""
        run, inflight, unsealed = self._call("register", self.worker, self.ttl_ms, uuid.uuid4().hex)
        self.run_id = run.decode() if isinstance(run, bytes) else str(run)
        return self.run_id, int(inflight), int(unsealed)

    def heartbeat(self) -> list[str]:
        """Renew this worker's lease; put dead workers' requests back in the queue (their
        names are returned)."""
        pipe = self.client.pipeline(transaction=False)
        pipe.set(self.key(f"alive:{self.worker}"), b"1", px=self.ttl_ms)
        self._scripts["reap"](keys=[], args=[self.prefix], client=pipe)
        _, reaped = pipe.execute()
        return [w.decode() for w in reaped]

    def leave(self, finished: bool) -> bool:
        """Leave the crawl (what is in flight goes back to the queue); True when this was
        the last worker of a finished crawl, which deleted the crawl's keys."""
        return bool(self._call("leave", self.worker, "1" if finished else "0"))

    def leaving(self) -> bool:
        """This worker is about to leave a finished crawl: True if it is the last."""
        return bool(self._call("leaving", self.worker))

    def status(self) -> Status:
        return Status(*(int(v) for v in self._call("status")))

    # -- the frontier ------------------------------------------------------------------

    def push(self, requests: Sequence[tuple[str, str, int, dict[str, Any]]]) -> list[bool]:
        """Queue ``(fingerprint, host, priority, data)`` requests not seen before; True for
        each one queued."""
        if not requests:
            return []
        args: list[Any] = []
        for fingerprint, host, priority, data in requests:
            data = {**data, "h": host}
            args += [fingerprint, host, priority, json.dumps(data, separators=(",", ":"))]
        return [bool(v) for v in self._call("push", *args)]

    def mark_seen(self, fingerprints: Iterable[str]) -> list[bool]:
        """Add fingerprints to the seen set; True for each one that was new."""
        fingerprints = list(fingerprints)
        if not fingerprints:
            return []
        pipe = self.client.pipeline(transaction=False)
        for fingerprint in fingerprints:
            pipe.sadd(self.key("seen"), fingerprint)
        return [bool(v) for v in pipe.execute()]

    def take(self, wants: dict[str, int], new_hosts: int, batch: int) -> list[Queued]:
        """Requests of the hosts this worker holds (``wants``: host → how many), and of up
        to ``new_hosts`` hosts nobody holds (``batch`` each), now in flight here."""
        args: list[Any] = [self.worker, new_hosts, batch]
        for host, want in wants.items():
            args += [host, want]
        return [Queued.parse(m) for m in self._call("take", *args)]

    def handled(self, fingerprints: Iterable[str], warc_file: str | None) -> int:
        """Requests handled (their records in ``warc_file``, the requests they led to
        queued): unsealed until that file is closed."""
        fingerprints = list(fingerprints)
        if not fingerprints:
            return 0
        return int(self._call("handled", self.worker, warc_file or "", *fingerprints))

    def seal(self, warc_file: str | None) -> int:
        """``warc_file`` was closed: its requests are done for good (None: all of this
        worker's, every file of it being closed)."""
        return int(self._call("seal", self.worker, warc_file or ""))

    def release(self, hosts: Iterable[str]) -> list[str]:
        hosts = list(hosts)
        if not hosts:
            return []
        return [h.decode() for h in self._call("release", self.worker, *hosts)]

    def held_hosts(self) -> set[str]:
        return {h.decode() for h in self.client.smembers(self.key(f"hosts:{self.worker}"))}

    def own(self, which: str) -> dict[str, Queued | str]:
        """This worker's ``inflight`` requests, or its ``unsealed`` fingerprints → file."""
        found = self.client.hgetall(self.key(f"{which}:{self.worker}"))
        if which == "inflight":
            return {k.decode(): Queued.parse(k + v) for k, v in found.items()}
        return {k.decode(): v.partition(b"\n")[0].decode() for k, v in found.items()}

    # -- crawl-wide counters and caches -----------------------------------------------

    def trap_verdicts(self, checks: Sequence[tuple[str, str, str, bool, int, int]]) -> list[int]:
        args: list[Any] = []
        for url_key, query_key, pattern_key, numbered, vmax, pmax in checks:
            args += [url_key, query_key, pattern_key, "1" if numbered else "0", vmax, pmax]
        return [int(v) for v in self._call("traps", *args)] if args else []

    def _shared_get(self, which: str, field: str) -> bytes | None:
        """``field`` of ``which`` (robots, last): from a worker that left (its files are
        closed), else from a live worker (a dead one's are dropped by the heartbeat)."""
        found = self.client.hget(self.key(which), field)
        if found is not None:
            return found
        pipe = self.client.pipeline(transaction=False)
        workers = sorted(w.decode() for w in self.client.smembers(self.key("workers")))
        for worker in workers:
            pipe.hget(self.key(f"{which}:{worker}"), field)
        return next((v for v in pipe.execute() if v is not None), None)

    def robots(self, netloc: str) -> tuple[int, bytes] | None:
        found = self._shared_get("robots", netloc)
        if found is None:
            return None
        status, _, body = found.partition(b"\n")
        return int(status), body

    def remember_robots(self, netloc: str, status: int, body: bytes) -> None:
        self.client.hset(self.key(f"robots:{self.worker}"), netloc,
                         str(status).encode() + b"\n" + body)  # fmt: skip

    def last_response(self, url: str) -> dict[str, Any] | None:
        found = self._shared_get("last", url)
        return json.loads(found) if found else None

    def remember_response(self, url: str, fields: dict[str, Any]) -> None:
        self.client.hset(self.key(f"last:{self.worker}"), url,
                         json.dumps(fields, separators=(",", ":")))  # fmt: skip

    def close(self) -> None:
        pool = getattr(self.client, "connection_pool", None)
        if pool is not None:
            pool.disconnect()
