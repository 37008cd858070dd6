"""Local SQS queues on the event store: standard and FIFO, at-least-once.

A received message stays in the database, invisible for the queue's visibility timeout, until
it is deleted (its function succeeded); otherwise it reappears. A message received
``max_receive`` times goes to the queue's dead-letter queue on its next receive. FIFO queues
hand out a message group only when none of its messages is in flight, in the order they were
sent, and drop a message whose deduplication id was seen in the last five minutes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import hashlib
import json
import random
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from faasport.core.errors import FaasportError
from faasport.local.sources.store import Store

#: How long a FIFO queue remembers a deduplication id (SQS: five minutes).
DEDUP_SECONDS = 300.0
#: SQS's own limits. A message's size counts its body and each attribute's name, type and value.
MAX_SIZE = 262_144
MAX_DELAY = 900
MAX_ATTRIBUTES = 10
#: A character outside what XML 1.0 carries: SQS refuses them in bodies and attribute values.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ATTRIBUTE_TYPE = re.compile(r"(String|Number|Binary)(\..+)?", re.DOTALL)
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
#: What :meth:`Queues.receive` hands out: the message's row, then the delivery's token.
_RECEIPT = re.compile(r"\d+:[0-9a-f]{32}")


class QueueError(FaasportError):
    """A request the queue refuses; ``code`` is SQS's error code for it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class QueueSpec:
    name: str
    visibility_timeout: float = 30.0
    max_receive: int = 3
    dlq: str | None = None
    delay: int = 0
    #: FIFO queues: deduplication by the body's SHA-256 when no id is given.
    content_dedup: bool = False

    @functools.cached_property
    def fifo(self) -> bool:  # read for every message sent
        return self.name.endswith(".fifo")


@dataclass
class Received:
    id: str
    body: str
    attributes: dict[str, dict[str, str]]
    receives: int
    sent_ms: int
    first_ms: int
    receipt: str
    group: str | None
    dedup: str | None
    seq: int


class Batch(list[Received]):
    """Received messages; ``more``: the queue held more visible ones than were taken."""

    more = False


@dataclass
class Sent:
    id: str
    md5: str
    seq: int
    duplicate: bool = False


def valid_receipt(receipt: str) -> bool:
    """Whether ``receipt`` has the shape of a receipt handle (its message may be gone)."""
    return _RECEIPT.fullmatch(receipt) is not None


def _seq(receipt: str) -> int:
    head = receipt.partition(":")[0]
    return int(head) if head.isdigit() else -1


#: The bits of a version 4, RFC 4122 variant UUID: kept, then set.
_UUID_KEEP = ~((0xF000 << 64) | (0xC000 << 48))
_UUID_SET = (0x4000 << 64) | (0x8000 << 48)


def random_id() -> str:
    # A version 4 UUID from the fast generator: message and request ids need to be unique,
    # not secret. Formatted by hand: uuid.UUID's checks cost a quarter of a sent message.
    text = f"{random.getrandbits(128) & _UUID_KEEP | _UUID_SET:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


@dataclass
class Outgoing:
    """A message to send."""

    body: str
    attributes: Mapping[str, Mapping[str, str]] | None = None
    group: str | None = None
    dedup: str | None = None
    delay: int | None = None


def message_size(message: Outgoing) -> int:
    """The bytes SQS counts against :data:`MAX_SIZE` (a body that cannot be sent counts too:
    a batch's size is checked before its messages are)."""
    return len(message.body.encode("utf-8", "surrogatepass")) + attributes_size(message.attributes)


def attributes_size(attributes: Mapping[str, Mapping[str, str]] | None) -> int:
    """Bytes of message attributes' names, types and values, as SQS and SNS count them."""
    size = 0
    for name, value in (attributes or {}).items():
        size += len(name.encode("utf-8", "surrogatepass"))
        size += len(value.get("DataType", "").encode("utf-8", "surrogatepass"))
        binary = value.get("BinaryValue")
        if binary is None:
            size += len(value.get("StringValue", "").encode("utf-8", "surrogatepass"))
        else:  # base64: three bytes per four characters, less the padding
            size += len(binary) * 3 // 4 - (len(binary) - len(binary.rstrip("=")))
    return size


def _refuse_characters(text: str, where: str) -> None:
    bad = _NOT_XML.search(text)
    if bad is not None:
        raise QueueError(
            "InvalidMessageContents",
            f"Invalid binary character '#x{ord(bad.group()):X}' was found in {where}, the set"
            " of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD"
            " | #x10000 to #x10FFFF",
        )


def _check_attributes(attributes: Mapping[str, Mapping[str, str]]) -> None:
    if len(attributes) > MAX_ATTRIBUTES:
        raise QueueError(
            "InvalidParameterValue",
            f"Number of message attributes [{len(attributes)}] exceeds the allowed maximum"
            f" [{MAX_ATTRIBUTES}].",
        )
    for name, value in attributes.items():
        kind = value.get("DataType", "")
        if not name or _ATTRIBUTE_TYPE.fullmatch(kind) is None:
            raise QueueError(
                "InvalidParameterValue",
                f"The message attribute '{name}' has an invalid message attribute type, the set"
                " of supported type prefixes is Binary, Number, and String.",
            )
        _refuse_characters(name + kind, f"the message attribute '{name}'")
        field = "Binary" if kind.startswith("Binary") else "String"
        text = value.get(f"{field}Value")
        if text is None:
            raise QueueError(
                "InvalidParameterValue",
                f"The message attribute '{name}' with type '{kind}' must use field '{field}'.",
            )
        if field == "Binary":
            try:
                base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                raise QueueError(
                    "InvalidParameterValue",
                    f"The message attribute '{name}' has a BinaryValue that is not base64.",
                ) from None
        elif kind.startswith("Number") and _NUMBER.fullmatch(text) is None:
            raise QueueError(
                "InvalidParameterValue",
                f"Can't cast the value of message (user) attribute '{name}' to a number.",
            )
        else:
            _refuse_characters(text, f"the message attribute '{name}'")


@dataclass
class _Waiters:
    condition: threading.Condition = field(default_factory=threading.Condition)
    #: Bumped by every notification: a consumer that saw the queue empty at version N
    #: does not wait if it has moved on since (the notification came before its wait).
    version: int = 0
    #: Consumers waiting on an event loop (the event source mappings' pollers), oldest first.
    futures: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = field(
        default_factory=list
    )


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Queues:
    """Every queue of the project on one :class:`Store`; thread-safe."""

    def __init__(
        self, store: Store, specs: Mapping[str, QueueSpec], clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.specs = dict(specs)
        self.clock = clock
        self._waiters = {name: _Waiters() for name in self.specs}

    # -- names ---------------------------------------------------------------------------

    def spec(self, name: str) -> QueueSpec:
        try:
            return self.specs[name]
        except KeyError:
            known = ", ".join(sorted(self.specs)) or "none"
            raise QueueError(
                "AWS.SimpleQueueService.NonExistentQueue",
                f'queue "{name}" does not exist; the queues are: {known}',
            ) from None

    # -- producers -----------------------------------------------------------------------

    def send(
        self,
        queue: str,
        body: str,
        *,
        attributes: Mapping[str, Mapping[str, str]] | None = None,
        group: str | None = None,
        dedup: str | None = None,
        delay: int | None = None,
    ) -> Sent:
        [sent] = self.send_batch(queue, [Outgoing(body, attributes, group, dedup, delay)])
        if isinstance(sent, QueueError):
            raise sent
        return sent

    def send_batch(self, queue: str, batch: list[Outgoing]) -> list[Sent | QueueError]:
        """Send every message of ``batch`` in one transaction; each result is what was sent
        or why that message was refused (the others are sent all the same)."""
        spec = self.spec(queue)
        now = self.clock()
        results: list[Sent | QueueError] = []
        with self.store.transaction() as db:
            if spec.fifo:
                db.execute("DELETE FROM dedup WHERE expires <= ?", (now,))
            for message in batch:
                try:
                    results.append(self._insert(db, spec, message, now))
                except QueueError as exc:
                    results.append(exc)
        # One consumer, not all: a consumer that takes a full batch wakes the next one
        # (nudge), so a stream of sends does not wake every poller for every batch.
        self._notify(queue, everyone=False)
        return results

    def _insert(
        self, db: sqlite3.Connection, spec: QueueSpec, message: Outgoing, now: float
    ) -> Sent:
        body, dedup = message.body, message.dedup
        if not body:
            raise QueueError("MissingParameter", "the message body must not be empty")
        _refuse_characters(body, "the message body")
        encoded = body.encode()
        size = len(encoded)
        if message.attributes:
            _check_attributes(message.attributes)
            size += attributes_size(message.attributes)
        if size > MAX_SIZE:
            raise QueueError(
                "InvalidParameterValue",
                "One or more parameters are invalid. Reason: Message must be at most"
                f" {MAX_SIZE} bytes (body and attributes); this one has {size}.",
            )
        if spec.fifo:
            if not message.group:
                raise QueueError(
                    "MissingParameter", f'FIFO queue "{spec.name}" needs a message group id'
                )
            if message.delay:
                raise QueueError(
                    "InvalidParameterValue",
                    "FIFO queues take no per-message delay; set the queue's delay instead",
                )
            if not dedup:
                if not spec.content_dedup:
                    raise QueueError(
                        "InvalidParameterValue",
                        f'FIFO queue "{spec.name}" needs a deduplication id '
                        "(or content_dedup = true)",
                    )
                dedup = hashlib.sha256(encoded).hexdigest()
        elif message.group or dedup:
            raise QueueError(
                "InvalidParameterValue",
                "message group and deduplication ids are for FIFO queues; "
                f'"{spec.name}" is standard',
            )
        seconds = spec.delay if message.delay is None else message.delay
        if not 0 <= seconds <= MAX_DELAY:
            raise QueueError("InvalidParameterValue", f"delay must be 0 to {MAX_DELAY} seconds")
        md5 = hashlib.md5(encoded).hexdigest()
        if dedup is not None:
            row = db.execute(
                "SELECT id FROM dedup WHERE queue = ? AND dedup = ?", (spec.name, dedup)
            ).fetchone()
            if row is not None:
                return Sent(row[0], md5, 0, duplicate=True)
        id = random_id()
        cursor = db.execute(
            "INSERT INTO messages (id, queue, body, attributes, grp, dedup, sent_ms, visible)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                id,
                spec.name,
                body,
                json.dumps(dict(message.attributes or {})) if message.attributes else "{}",
                message.group,
                dedup,
                int(now * 1000),
                now + seconds,
            ),
        )
        if dedup is not None:
            db.execute(
                "INSERT INTO dedup (queue, dedup, id, expires) VALUES (?, ?, ?, ?)",
                (spec.name, dedup, id, now + DEDUP_SECONDS),
            )
        return Sent(id, md5, int(cursor.lastrowid or 0))

    def _notify(self, queue: str, *, everyone: bool = True) -> None:
        waiters = self._waiters[queue]
        with waiters.condition:
            waiters.version += 1
            if everyone:
                waiters.condition.notify_all()
                woken, waiters.futures = waiters.futures, []
            elif waiters.futures:
                woken = [waiters.futures.pop(0)]
            else:
                waiters.condition.notify()
                return
        for loop, future in woken:
            loop.call_soon_threadsafe(_wake, future)

    def nudge(self, queue: str) -> None:
        """Wake one more consumer of ``queue``: more messages may be waiting."""
        self._notify(queue, everyone=False)

    def version(self, queue: str) -> int:
        """Pass it to :meth:`wait` to not miss a notification that comes before the wait."""
        waiters = self._waiters.get(queue)
        if waiters is None:
            self.spec(queue)  # the error naming the queues there are
        return waiters.version if waiters is not None else 0

    # -- consumers -----------------------------------------------------------------------

    def receive(
        self,
        queue: str,
        count: int,
        visibility: float | None = None,
        *,
        done: list[str] | None = None,
    ) -> Batch:
        """Up to ``count`` visible messages, now in flight for the visibility timeout;
        first, in the same transaction, the messages of the receipts ``done`` are deleted
        (a poller's previous batch: one write to the database per batch, not two)."""
        spec = self.spec(queue)
        timeout = spec.visibility_timeout if visibility is None else visibility
        now = self.clock()
        query = (
            "SELECT seq, id, body, attributes, receives, sent_ms, first_ms, grp, dedup"
            " FROM messages INDEXED BY messages_order WHERE queue = ? AND visible <= ?"
        )
        args: tuple[object, ...] = (queue, now)
        if spec.fifo:
            # A group with a message in flight waits: that is what keeps its order.
            query += (
                " AND grp NOT IN (SELECT grp FROM messages"
                " WHERE queue = ? AND receives > 0 AND visible > ?)"
            )
            args += (queue, now)
        query += " ORDER BY seq LIMIT ?"
        args += (count + 1,)  # one more tells whether another consumer should be woken
        out = Batch()
        moved = False
        # One token per receive: a receipt is unique to this delivery of this message.
        token = f"{random.getrandbits(128):032x}"
        first_ms = int(now * 1000)
        with self.store.lock:
            if not done:
                # Read first: an empty queue costs no write transaction (idle pollers, long
                # polls). Nothing else writes while the lock is held.
                rows = self.store.db.execute(query, args).fetchall()
                if not rows:
                    return out
            with self.store.transaction() as db:
                if done:
                    self._delete(db, queue, done)
                    rows = db.execute(query, args).fetchall()
                out.more = len(rows) > count
                taken: list[int] = []
                for seq, id, body, attributes, receives, sent, first, group, dedup in rows[:count]:
                    if spec.dlq is not None and receives >= spec.max_receive:
                        self._move(db, seq, spec.dlq, now)
                        moved = True
                        continue
                    taken.append(seq)
                    out.append(
                        Received(
                            id,
                            body,
                            json.loads(attributes) if attributes != "{}" else {},
                            receives + 1,
                            sent,
                            first or first_ms,
                            f"{seq}:{token}",
                            group,
                            dedup,
                            seq,
                        )
                    )
                if taken:
                    marks = ",".join("?" * len(taken))
                    db.execute(
                        "UPDATE messages SET visible = ?, receives = receives + 1,"
                        " receipt = seq || ':' || ?, first_ms = COALESCE(first_ms, ?)"
                        f" WHERE seq IN ({marks})",
                        (now + timeout, token, first_ms, *taken),
                    )
        if moved and spec.dlq is not None and spec.dlq in self._waiters:
            self._notify(spec.dlq)
        return out

    def _move(self, db: sqlite3.Connection, seq: int, target: str, now: float) -> None:
        # Same id, body and attributes (as SQS keeps them), a fresh receive count and order.
        row = db.execute(
            "SELECT id, body, attributes, grp, dedup, sent_ms FROM messages WHERE seq = ?", (seq,)
        ).fetchone()
        db.execute("DELETE FROM messages WHERE seq = ?", (seq,))
        db.execute(
            "INSERT INTO messages (id, queue, body, attributes, grp, dedup, sent_ms, visible)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (row[0], target, row[1], row[2], row[3], row[4], row[5], now),
        )

    def delete(self, queue: str, receipts: list[str]) -> int:
        """Delete messages by receipt handle; how many were still there."""
        self.spec(queue)
        if not receipts:
            return 0
        with self.store.transaction() as db:
            return self._delete(db, queue, receipts)

    @staticmethod
    def _delete(db: sqlite3.Connection, queue: str, receipts: list[str]) -> int:
        # A receipt starts with its row's key, which finds it without another index.
        seqs = [_seq(receipt) for receipt in receipts]
        marks = ",".join("?" * len(receipts))
        return db.execute(
            f"DELETE FROM messages WHERE seq IN ({marks}) AND queue = ? AND receipt IN ({marks})",
            (*seqs, queue, *receipts),
        ).rowcount

    def change_visibility(self, queue: str, receipt: str, seconds: float) -> bool:
        self.spec(queue)
        with self.store.transaction() as db:
            changed = db.execute(
                "UPDATE messages SET visible = ? WHERE seq = ? AND queue = ? AND receipt = ?",
                (self.clock() + seconds, _seq(receipt), queue, receipt),
            ).rowcount
        if seconds == 0:
            self._notify(queue)
        return bool(changed)

    def _until_visible(self, queue: str, timeout: float) -> float:
        """``timeout``, or less when a message of ``queue`` becomes visible sooner."""
        now = self.clock()
        with self.store.lock:
            row = self.store.db.execute(
                "SELECT MIN(visible) FROM messages WHERE queue = ? AND visible > ?", (queue, now)
            ).fetchone()
        if row[0] is not None:
            timeout = min(timeout, max(row[0] - now, 0.0) + 0.001)
        return timeout

    def wait(self, queue: str, timeout: float, since: int | None = None) -> None:
        """Block until a message is sent to ``queue``, the next one becomes visible, or
        ``timeout`` passes; at once if ``queue`` was notified after :meth:`version` gave
        ``since``."""
        timeout = self._until_visible(queue, timeout)
        waiters = self._waiters[queue]
        with waiters.condition:
            if since is None or waiters.version == since:
                waiters.condition.wait(timeout)

    async def wait_async(self, queue: str, timeout: float, since: int | None = None) -> None:
        """:meth:`wait` for a coroutine: the loop goes on meanwhile."""
        timeout = self._until_visible(queue, timeout)
        waiters = self._waiters[queue]
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        entry = (loop, future)
        with waiters.condition:
            if since is not None and waiters.version != since:
                return
            waiters.futures.append(entry)
        timer = loop.call_later(timeout, _wake, future)
        try:
            await future
        finally:
            timer.cancel()
            with waiters.condition:
                if entry in waiters.futures:  # timed out or cancelled: not woken
                    waiters.futures.remove(entry)

    def wake_all(self) -> None:
        for name in self._waiters:
            self._notify(name)

    # -- administration ------------------------------------------------------------------

    def purge(self, queue: str) -> int:
        self.spec(queue)
        with self.store.transaction() as db:
            return db.execute("DELETE FROM messages WHERE queue = ?", (queue,)).rowcount

    def counts(self, queue: str) -> dict[str, int]:
        """Visible, in-flight and delayed messages (SQS's Approximate* attributes)."""
        self.spec(queue)
        now = self.clock()
        with self.store.lock:
            visible, in_flight, delayed = self.store.db.execute(
                "SELECT COALESCE(SUM(visible <= ?), 0),"
                " COALESCE(SUM(visible > ? AND receives > 0), 0),"
                " COALESCE(SUM(visible > ? AND receives = 0), 0)"
                " FROM messages WHERE queue = ?",
                (now, now, now, queue),
            ).fetchone()
        return {"visible": visible, "in_flight": in_flight, "delayed": delayed}

    def peek(self, queue: str, limit: int = 100) -> list[tuple[str, str, int]]:
        """``(id, body, receives)`` of the queue's messages, oldest first, without receiving."""
        self.spec(queue)
        with self.store.lock:
            return self.store.db.execute(
                "SELECT id, body, receives FROM messages WHERE queue = ? ORDER BY seq LIMIT ?",
                (queue, limit),
            ).fetchall()

    def redrive(self, queue: str) -> int:
        """Move every message of ``queue``'s dead-letter queue back to it."""
        spec = self.spec(queue)
        if spec.dlq is None:
            raise QueueError("InvalidParameterValue", f'queue "{queue}" has no dlq to redrive')
        now = self.clock()
        with self.store.transaction() as db:
            rows = db.execute(
                "SELECT seq FROM messages WHERE queue = ? ORDER BY seq", (spec.dlq,)
            ).fetchall()
            for (seq,) in rows:
                self._move(db, seq, queue, now)
        self._notify(queue)
        return len(rows)
