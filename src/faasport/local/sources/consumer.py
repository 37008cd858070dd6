"""An SQS event source mapping: pollers that receive batches from a local queue, invoke the
function with the event SQS sends, and delete what succeeded.

As on Lambda: a function error leaves the whole batch to reappear after the visibility
timeout; a ``batchItemFailures`` response deletes every message but the listed ones; a
response naming a message that is not in the batch (or an empty identifier) counts as a
failure of the whole batch, so nothing is dropped by a bad response.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from hashlib import md5
from typing import Any, Protocol

from faasport.local.sources.queues import Batch, Queues, Received

ACCOUNT = "123456789012"


class Result(Protocol):
    @property
    def ok(self) -> bool: ...

    payload: bytes


#: Invokes a function by name with an event and blocks until it ends.
Invoke = Callable[[str, bytes], Result]
#: The same, as a coroutine on the loop that runs the pollers.
AsyncInvoke = Callable[[str, bytes], Awaitable[Result]]


class Functions(Protocol):
    """What runs the functions (the emulator): its loop, and invocations by name that
    block (any other thread) or are awaited (on the loop)."""

    @property
    def loop(self) -> asyncio.AbstractEventLoop: ...

    def invoke(self, name: str, payload: bytes) -> Result: ...

    def invoke_async(self, name: str, payload: bytes) -> Awaitable[Result]: ...


Log = Callable[[str], None]


def sqs_event(queue: str, batch: list[Received], region: str) -> bytes:
    """The JSON event SQS sends a function for ``batch``.

    Written as text around ``json.dumps`` of the free-form fields (body, attributes): one
    dict per record and the generic encoder cost as much as the rest of a delivery. Ids,
    receipts and numbers are ours and need no escaping."""
    dumps = json.dumps
    tail = (
        f'"eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:{region}:{ACCOUNT}:{queue}",'
        f'"awsRegion":"{region}"}}'
    )
    records = []
    for message in batch:
        fifo = ""
        if message.group is not None:
            fifo = (
                f',"SequenceNumber":"{message.seq:020d}","MessageGroupId":{dumps(message.group)}'
                f',"MessageDeduplicationId":{dumps(message.dedup or "")}'
            )
        attributes = (
            dumps({name: _attribute(value) for name, value in message.attributes.items()})
            if message.attributes
            else "{}"
        )
        records.append(
            f'{{"messageId":"{message.id}","receiptHandle":"{message.receipt}",'
            f'"body":{dumps(message.body)},"attributes":{{"ApproximateReceiveCount":'
            f'"{message.receives}","SentTimestamp":"{message.sent_ms}",'
            f'"SenderId":"AIDAIENQZJOLO23YVJ4VO","ApproximateFirstReceiveTimestamp":'
            f'"{message.first_ms}"{fifo}}},"messageAttributes":{attributes},'
            f'"md5OfBody":"{md5(message.body.encode()).hexdigest()}",{tail}'
        )
    return ('{"Records":[' + ",".join(records) + "]}").encode()


def _attribute(value: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": value.get("DataType", "String"),
    }
    if "BinaryValue" in value:
        out["binaryValue"] = value["BinaryValue"]
    else:
        out["stringValue"] = value.get("StringValue", "")
    return out


def failed_ids(payload: bytes, batch: list[Received]) -> set[str] | None:
    """The ids a successful invocation reports failed; None: the whole batch failed (as
    Lambda decides: a response that is not JSON, or names an item badly or not in the batch)."""
    try:
        response = json.loads(payload) if payload else None
    except ValueError:
        return None
    if not isinstance(response, dict) or "batchItemFailures" not in response:
        return set()
    items = response["batchItemFailures"]
    if items is None:
        return set()
    ids = {message.id for message in batch}
    failed: set[str] = set()
    if not isinstance(items, list):
        return None
    for item in items:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in ids:
            return None
        failed.add(identifier)
    return failed


class QueueConsumer:
    """``pollers`` tasks on ``loop`` feeding ``function`` from ``queue``; inert until
    :meth:`start`.

    Tasks on the loop that runs the environments, not threads: a batch goes to its
    environment and its result comes back without a hand-over between threads (which cost
    as much as the rest of a delivery). The database calls are short and run on the loop.
    """

    def __init__(
        self,
        queues: Queues,
        queue: str,
        function: str,
        invoke: AsyncInvoke,
        loop: asyncio.AbstractEventLoop,
        *,
        batch: int = 10,
        window: float = 0.0,
        pollers: int = 1,
        region: str = "us-east-1",
        log: Log = lambda line: None,
        event: Callable[[list[Received]], dict[str, Any]] | None = None,
    ) -> None:
        self.queues = queues
        self.queue = queue
        self.function = function
        self.invoke = invoke
        self.loop = loop
        self.batch = batch
        self.window = window
        self.pollers = pollers
        self.region = region
        self.log = log
        #: Builds the event for a batch; None: the SQS event, with partial batch failures.
        self.event = event
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start the pollers (from any thread)."""

        def spawn() -> None:
            self._tasks = [self.loop.create_task(self._poll()) for _ in range(self.pollers)]

        self.loop.call_soon_threadsafe(spawn)

    def stop(self) -> None:
        """Stop the pollers and wait for the batches in hand (from a thread other than the
        loop's); a batch not finished reappears after its visibility timeout."""
        self._stopping = True
        self.queues.wake_all()
        if self.loop.is_closed() or not self.loop.is_running():
            return

        async def finish() -> None:
            if self._tasks:
                _, late = await asyncio.wait(self._tasks, timeout=5)
                for task in late:  # its batch reappears after the visibility timeout
                    task.cancel()

        with contextlib.suppress(TimeoutError, RuntimeError):  # the loop stopped meanwhile
            asyncio.run_coroutine_threadsafe(finish(), self.loop).result(timeout=10)

    async def _poll(self) -> None:
        #: Receipts of the messages done with: deleted by the next receive, in its write.
        done: list[str] = []
        while not self._stopping:
            try:
                since = self.queues.version(self.queue)
                batch = await self._next_batch(done)
                done = []
                if batch.more:
                    self.queues.nudge(self.queue)  # another poller takes the rest
                if batch:
                    done = await self._deliver(batch)
                elif not self._stopping:
                    await self.queues.wait_async(self.queue, 1.0, since)
            except Exception as exc:  # the poller must outlive one bad turn
                if self._stopping:
                    break
                self.log(f"queue {self.queue}: {type(exc).__name__}: {exc}")
                await asyncio.sleep(0.1)
        if done:
            self.queues.delete(self.queue, done)

    async def _next_batch(self, done: list[str]) -> Batch:
        batch = self.queues.receive(self.queue, self.batch, done=done)
        if not batch or self.window <= 0:
            return batch
        deadline = time.monotonic() + self.window
        while len(batch) < self.batch and not self._stopping:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            await self.queues.wait_async(self.queue, left)
            more = self.queues.receive(self.queue, self.batch - len(batch))
            batch += more
            batch.more = more.more
        return batch

    async def _deliver(self, batch: list[Received]) -> list[str]:
        """The receipts of the messages to delete: those the function is done with."""
        if self.event is None:
            payload = sqs_event(self.queue, batch, self.region)
        else:
            payload = json.dumps(self.event(batch)).encode()
        result = await self.invoke(self.function, payload)
        if not result.ok:
            return []  # the batch reappears after its visibility timeout
        failed = failed_ids(result.payload, batch) if self.event is None else set()
        if failed is None:
            self.log(
                f"queue {self.queue}: {self.function} returned batchItemFailures naming no "
                "message of the batch; the whole batch is retried"
            )
            return []
        return [message.receipt for message in batch if message.id not in failed]
