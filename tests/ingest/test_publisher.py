"""The shipped publisher: concurrent callers share Publish RPCs, each waits for its own ids.

The emulator tests publish for real; the others hold the RPC (``publish_rpc``) on an event
so that callers queue behind it deterministically, and check how the publisher shares
RPCs out and hands back each caller's answer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import grpc
import pytest
from loyjoy_relay.adapters.ports import OutgoingMessage
from loyjoy_relay.adapters.pubsub import PubSubPublisher
from loyjoy_relay.errors import PublishError

from tests.conftest import PROJECT
from tests.support.emulators import Emulator
from tests.support.net import wait_until
from tests.support.pubsub import pull_messages


def _request(index: int, parts: int = 2) -> list[OutgoingMessage]:
    return [
        OutgoingMessage(f"{index}-{part}".encode(), {"bot_id": "b", "n": str(part)})
        for part in range(parts)
    ]


class HeldRpc:
    """Stands in for the Publish RPC: records each call and holds the first until released."""

    def __init__(self, fail_call: int | None = None) -> None:
        self.calls: list[list[bytes]] = []
        self.release = threading.Event()
        self.entered = threading.Event()
        self._fail_call = fail_call

    def __call__(self, messages: Sequence[OutgoingMessage]) -> list[str]:
        self.calls.append([message.data for message in messages])
        self.entered.set()
        if len(self.calls) == 1:
            self.release.wait(timeout=30)
        if self._fail_call == len(self.calls):
            raise PublishError("Pub/Sub did not accept the message: Unavailable")
        return [f"id-{message.data.decode()}" for message in messages]


@pytest.fixture
def publisher(pubsub_emulator: Emulator) -> PubSubPublisher:
    """A publisher for a topic nobody reads (the held-RPC tests never send)."""
    return PubSubPublisher(PROJECT, "held-topic")


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    """Threads standing for concurrent ingest requests."""
    with ThreadPoolExecutor(max_workers=8) as executor:
        yield executor


def _queue_behind_held_rpc(
    publisher: PubSubPublisher,
    rpc: HeldRpc,
    pool: ThreadPoolExecutor,
    requests: list[list[OutgoingMessage]],
) -> list[Future[list[str]]]:
    """The first request enters the held RPC; the others queue; then the RPC is released."""
    publisher.publish_rpc = rpc  # type: ignore[method-assign]
    first = pool.submit(publisher.publish_all, requests[0])
    assert rpc.entered.wait(timeout=30)
    rest = [pool.submit(publisher.publish_all, request) for request in requests[1:]]
    wait_until(lambda: publisher.waiting == len(rest), timeout=30, what="callers queued")
    rpc.release.set()
    return [first, *rest]


def test_callers_arriving_during_an_rpc_share_the_next_one(
    publisher: PubSubPublisher, pool: ThreadPoolExecutor
) -> None:
    """Three requests queued behind an RPC in flight go out together in one more RPC."""
    rpc = HeldRpc()
    requests = [_request(i) for i in range(4)]
    answers = [f.result(timeout=30) for f in _queue_behind_held_rpc(publisher, rpc, pool, requests)]
    assert len(rpc.calls) == 2
    assert rpc.calls[0] == [b"0-0", b"0-1"]
    assert sorted(rpc.calls[1]) == sorted(m.data for r in requests[1:] for m in r)
    for index, ids in enumerate(answers):
        assert ids == [f"id-{index}-0", f"id-{index}-1"]


def test_a_failed_rpc_fails_every_caller_in_it_and_only_them(
    publisher: PubSubPublisher, pool: ThreadPoolExecutor
) -> None:
    """When the shared RPC fails, each of its callers gets PublishError (ingest: 503)."""
    rpc = HeldRpc(fail_call=2)
    requests = [_request(i) for i in range(3)]
    first, *shared = _queue_behind_held_rpc(publisher, rpc, pool, requests)
    assert first.result(timeout=30) == ["id-0-0", "id-0-1"]
    for future in shared:
        with pytest.raises(PublishError):
            future.result(timeout=30)
    assert publisher.publish_all(_request(9)) == ["id-9-0", "id-9-1"]  # the turn was handed on


def test_an_rpc_stays_within_the_message_limit(
    pubsub_emulator: Emulator, pool: ThreadPoolExecutor
) -> None:
    """Queued callers beyond one Publish request's limit wait for the RPC after it."""
    publisher = PubSubPublisher(PROJECT, "held-topic", max_messages=4)
    rpc = HeldRpc()
    requests = [_request(i) for i in range(4)]
    answers = [f.result(timeout=30) for f in _queue_behind_held_rpc(publisher, rpc, pool, requests)]
    assert [len(call) for call in rpc.calls] == [2, 4, 2]
    assert answers[3] == ["id-3-0", "id-3-1"]


@pytest.mark.emulator
def test_concurrent_requests_each_get_their_own_ids_and_every_message_arrives(
    topic_and_subscription: tuple[str, str], pool: ThreadPoolExecutor
) -> None:
    """40 requests of 2 messages from 8 threads: 80 distinct ids, 80 messages as sent."""
    topic, subscription = topic_and_subscription
    publisher = PubSubPublisher(PROJECT, topic)
    answers = list(pool.map(lambda i: publisher.publish_all(_request(i)), range(40)))
    assert all(len(ids) == 2 for ids in answers)
    assert len({message_id for ids in answers for message_id in ids}) == 80
    pulled = pull_messages(subscription, expected=80)
    sent = {(m.data, m.attributes["n"]) for i in range(40) for m in _request(i)}
    assert {(m.data, m.attributes["n"]) for m in pulled} == sent
    assert {m.ordering_key for m in pulled} == {""}


@pytest.mark.emulator
def test_a_missing_topic_raises_publish_error(pubsub_emulator: Emulator) -> None:
    """When Pub/Sub refuses the message the publisher raises PublishError (ingest: 503)."""
    publisher = PubSubPublisher(PROJECT, "no-such-topic", deadline=1.0)
    with pytest.raises(PublishError):
        publisher.publish_all(_request(0))


def test_nothing_to_publish_sends_nothing(publisher: PubSubPublisher) -> None:
    """An empty list returns at once without an RPC."""
    calls: list[object] = []
    publisher.publish_rpc = calls.append  # type: ignore[assignment,method-assign]
    assert publisher.publish_all([]) == []
    assert calls == []


class _Status(grpc.RpcError):
    """A failed call as grpc raises it: an RpcError that tells its status code."""

    def __init__(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code


def test_transient_statuses_are_retried_within_the_deadline(publisher: PubSubPublisher) -> None:
    """UNAVAILABLE twice, then an answer: the caller gets the ids; NOT_FOUND fails at once."""
    calls: list[float] = []
    answers: list[Exception | list[str]] = [
        _Status(grpc.StatusCode.UNAVAILABLE),
        _Status(grpc.StatusCode.UNAVAILABLE),
        ["m-1"],
        _Status(grpc.StatusCode.NOT_FOUND),
    ]

    def rpc(request: object, *, timeout: float, metadata: object) -> object:
        calls.append(timeout)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return type("Response", (), {"message_ids": answer})()

    publisher._rpc = rpc  # type: ignore[assignment]
    assert publisher.publish_all(_request(0, parts=1)) == ["m-1"]
    assert len(calls) == 3
    assert all(0 < timeout <= publisher.deadline for timeout in calls)
    with pytest.raises(PublishError, match="NOT_FOUND"):
        publisher.publish_all(_request(1, parts=1))
    assert len(calls) == 4
