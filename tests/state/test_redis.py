"""The Redis store's own fast path for rate-limit scripts: scripts the server does not know
(a new or flushed server) are loaded on the way, a connection the server closed is replaced,
and a forked process never shares its parent's sockets."""

from __future__ import annotations

import multiprocessing

import pytest
import redis

from faasport import state

pytestmark = pytest.mark.redis


def test_a_flushed_script_cache_is_refilled(redis_url: str) -> None:
    with state.open(redis_url) as store:
        assert store.fixed_window("flush", limit=5, window=60).remaining == 4
        with redis.Redis.from_url(redis_url) as admin:
            admin.script_flush()
        assert store.fixed_window("flush", limit=5, window=60).remaining == 3
        assert store.sliding_window("flush", limit=5, window=60).allowed
        assert store.take("flush", rate=1, burst=2).allowed


def test_a_connection_closed_by_the_server_is_replaced(redis_url: str) -> None:
    with state.open(redis_url) as store:
        assert store.fixed_window("killed", limit=5, window=60).remaining == 4
        with redis.Redis.from_url(redis_url) as admin:
            admin.client_setname("admin")
            killed = admin.client_kill_filter(_type="normal", skipme=True)
        assert killed >= 1
        # Counted once: the request on the closed connection never reached the server.
        assert store.fixed_window("killed", limit=5, window=60).remaining == 3


def _child(store: state.Store, queue: multiprocessing.Queue[int]) -> None:
    queue.put(store.fixed_window("forked", limit=100, window=60).remaining)


def test_a_forked_process_opens_its_own_connections(redis_url: str) -> None:
    with state.open(redis_url) as store:
        assert store.fixed_window("forked", limit=100, window=60).remaining == 99
        context = multiprocessing.get_context("fork")
        queue: multiprocessing.Queue[int] = context.Queue()
        child = context.Process(target=_child, args=(store, queue))
        child.start()
        assert queue.get(timeout=20) == 98
        child.join(20)
        assert child.exitcode == 0
        # The parent's connection is intact.
        assert store.fixed_window("forked", limit=100, window=60).remaining == 97


def test_a_refused_hit_is_not_counted(redis_url: str) -> None:
    with state.open(redis_url) as store:
        assert store.fixed_window("refused", limit=2, window=60, cost=2).allowed
        refused = store.fixed_window("refused", limit=2, window=60)
        assert (refused.allowed, refused.remaining) == (False, 0)
        with redis.Redis.from_url(redis_url) as admin:
            (key,) = admin.keys("faasport:f:refused:*")
            assert admin.get(key) == b"2"
            assert admin.pttl(key) > 0
        too_big = store.fixed_window("new", limit=1, window=60, cost=1)
        assert too_big.allowed
