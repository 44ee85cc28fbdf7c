"""The online states' one Redis connection: scripts by SHA1, one pipeline, reloads after a flush."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
import redis
from fraud_inference.online_redis import OnlineRedis, Script, ScriptCall

pytestmark = pytest.mark.services

ECHO = Script("return {KEYS[1], ARGV[1]}")


def run(url: str, commands: list[Any]) -> list[Any] | None:
    async def go() -> list[Any] | None:
        connection = OnlineRedis(url, 2.0)
        try:
            return await connection.run(commands)
        finally:
            await connection.close()

    return asyncio.run(go())


def test_scripts_and_commands_answer_in_the_order_they_were_sent(redis_server: Any) -> None:
    key = f"echo-{uuid.uuid4().hex[:8]}"
    replies = run(
        redis_server.url,
        [ScriptCall(ECHO, [key], ["one"]), ("SET", key, "2"), ScriptCall(ECHO, [key], ["three"])],
    )

    assert replies == [[key.encode(), b"one"], b"OK", [key.encode(), b"three"]]


def test_a_flushed_script_cache_is_reloaded_and_the_pipeline_sent_again(
    redis_server: Any,
) -> None:
    redis.Redis.from_url(redis_server.url).script_flush()

    replies = run(redis_server.url, [ScriptCall(ECHO, ["k"], ["again"])])

    assert replies == [[b"k", b"again"]]


def test_an_unreachable_redis_answers_none_and_opens_the_breaker() -> None:
    async def go() -> tuple[list[Any] | None, bool]:
        connection = OnlineRedis("redis://127.0.0.1:1/0", 0.2)
        try:
            return await connection.run([("GET", "k")]), connection.breaker.is_open
        finally:
            await connection.close()

    replies, breaker_open = asyncio.run(go())

    assert replies is None and breaker_open


def test_a_redis_that_stops_answering_is_given_up_after_the_timeout() -> None:
    async def go() -> tuple[list[Any] | None, bool]:
        async def accept_and_stay_silent(reader: Any, writer: Any) -> None:
            await reader.read()

        server = await asyncio.start_server(accept_and_stay_silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        connection = OnlineRedis(f"redis://127.0.0.1:{port}/0", 0.2)
        try:
            async with asyncio.timeout(5):
                return await connection.run([("GET", "k")]), connection.breaker.is_open
        finally:
            await connection.close()
            server.close()

    replies, breaker_open = asyncio.run(go())

    assert replies is None and breaker_open
