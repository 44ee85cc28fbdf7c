"""The one Redis connection of the online feature state: its client, its Lua scripts and its
circuit breaker, shared by the history state (``online_state``) and the risk state
(``online_risk``).

Both states describe what they need as commands (:class:`ScriptCall` or a plain Redis command);
:meth:`OnlineRedis.run` sends any list of them in **one pipeline** (one write, then the replies
in order, on one pooled connection), so scoring a transaction costs one round trip for its
customer, its entities and its risk counts together. Scripts go as ``EVALSHA`` of a SHA1
computed here: no ``SCRIPT EXISTS`` before each pipeline (what redis-py's registered scripts
send, a round trip of its own); a ``NOSCRIPT`` reply (a restarted or flushed
Redis) loads every script once and sends the pipeline again, which is safe because every command
the states send is idempotent. When Redis is unreachable the caller gets ``None`` and scores
degraded; the circuit breaker keeps a dead Redis from costing every request a timeout.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

import hiredis
import redis.asyncio as aioredis
from redis.exceptions import NoScriptError, RedisError, ResponseError

from fraud_inference.circuit_breaker import CircuitBreaker

log = logging.getLogger(__name__)

#: How long a failed Redis is skipped before one request tries it again.
BREAKER_COOLDOWN_S = 2.0


@dataclass(frozen=True)
class Script:
    """A Lua script of this package and its SHA1 (what ``EVALSHA`` names it by)."""

    source: str
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.source.encode()).hexdigest())

    @classmethod
    def named(cls, filename: str) -> Script:
        """The script in ``fraud_inference/<filename>``."""
        return cls(files("fraud_inference").joinpath(filename).read_text())


@dataclass(frozen=True)
class ScriptCall:
    """One call of a script: its keys (one hash slot) and arguments."""

    script: Script
    keys: Sequence[str]
    args: Sequence[str]


#: What a state asks of Redis: a script call, or a plain command as its words.
Command = ScriptCall | tuple[Any, ...]


class OnlineRedis:
    """Sends the online states' commands to one Redis, degrading to ``None`` when it is down."""

    def __init__(self, url: str, timeout_s: float) -> None:
        # no socket timeout of redis-py's (it wraps every write in a task and every read in a
        # timer of its own): one deadline per exchange, pushed back by each reply, bounds it as a
        # socket timeout would (no wait for the next reply longer than ``timeout_s``)
        self._client = aioredis.Redis.from_url(
            url,
            socket_timeout=None,
            socket_connect_timeout=timeout_s,
            retry_on_timeout=False,
            health_check_interval=0,
        )
        self._timeout_s = timeout_s
        self.breaker = CircuitBreaker(BREAKER_COOLDOWN_S)

    async def run(self, commands: Sequence[Command]) -> list[Any] | None:
        """The replies of ``commands``, sent in one pipeline in their order; ``None`` if Redis is
        down (or the breaker says it was a moment ago)."""
        if not self.breaker.allow():
            return None
        try:
            async with asyncio.timeout(self._timeout_s) as deadline:
                try:
                    replies = await self._pipeline(commands, deadline)
                except NoScriptError:
                    for script in {c.script for c in commands if isinstance(c, ScriptCall)}:
                        await self._client.script_load(script.source)
                        self._push_back(deadline)
                    replies = await self._pipeline(commands, deadline)
        except (RedisError, OSError) as error:  # a TimeoutError is an OSError
            if not self.breaker.is_open:
                log.warning("online feature state unavailable, scoring degraded: %s", error)
            self.breaker.record_failure()
            return None
        self.breaker.record_success()
        return replies

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    def _push_back(self, deadline: asyncio.Timeout) -> None:
        deadline.reschedule(asyncio.get_running_loop().time() + self._timeout_s)

    async def _pipeline(self, commands: Sequence[Command], deadline: asyncio.Timeout) -> list[Any]:
        """Send every command at once and read their replies in order, raising the first error
        reply after all were read (the connection stays in step). Packed by hiredis, not by the
        asyncio pipeline of redis-py, which packs each word in Python: about a quarter of a
        scored transaction's time in the online state benchmark."""
        packed = [hiredis.pack_command(_words(command)) for command in commands]
        pool = self._client.connection_pool
        connection = await pool.get_connection()
        try:
            await connection.send_packed_command(packed, check_health=False)
            replies: list[Any] = []
            error: ResponseError | None = None
            for _ in packed:
                try:
                    replies.append(await connection.read_response())
                except ResponseError as reply:
                    error = error or reply
                    replies.append(reply)
                self._push_back(deadline)
        except BaseException:
            await connection.disconnect()
            raise
        finally:
            await pool.release(connection)
        if error is not None:
            raise error
        return replies


def _words(command: Command) -> tuple[Any, ...]:
    if isinstance(command, ScriptCall):
        keys = tuple(command.keys)
        return ("EVALSHA", command.script.sha, len(keys), *keys, *command.args)
    return command
