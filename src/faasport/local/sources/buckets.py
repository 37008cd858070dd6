"""Local S3 buckets: a directory per bucket under ``.faasport/buckets/``. Putting or deleting
an object through the S3 endpoint or ``faasport bucket``, or writing or removing a file in
the directory yourself, emits S3's ObjectCreated / ObjectRemoved event to the functions
whose bucket events match it (``on``, ``prefix``, ``suffix``).

What was last seen of each object is kept in the event store, and the directories are
compared with it at start and every ``interval`` seconds after, so a file written while
``faasport dev`` was down still produces its event. Deliveries wait in internal queues
(``_s3:BUCKET:FUNCTION:N``), as topic deliveries do.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from faasport.local.sources.queues import Outgoing, QueueError, Queues, Received
from faasport.local.sources.store import Store

if TYPE_CHECKING:
    from faasport.config.model import Project

BUCKETS = Path(".faasport") / "buckets"
SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    etag TEXT NOT NULL,
    PRIMARY KEY (bucket, key)
);
"""


@dataclass(frozen=True)
class Notification:
    queue: str
    function: str
    bucket: str
    on: str
    prefix: str
    suffix: str

    def wants(self, key: str, change: str) -> bool:
        return change == self.on and key.startswith(self.prefix) and key.endswith(self.suffix)


def notifications(project: Project) -> list[Notification]:
    from faasport.config.model import BucketEvent

    out = []
    for function in project.functions.values():
        events = [e for e in function.events if isinstance(e, BucketEvent)]
        for index, event in enumerate(events, 1):
            queue = f"_s3:{event.bucket}:{function.name}:{index}"
            out.append(
                Notification(
                    queue, function.name, event.bucket, event.on, event.prefix, event.suffix
                )
            )
    return out


def s3_event(batch: list[Received]) -> dict[str, Any]:
    return {"Records": [json.loads(message.body) for message in batch]}


def _etag(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Buckets:
    """Every bucket the project's functions listen to; thread-safe, inert until started."""

    def __init__(
        self,
        store: Store,
        queues: Queues,
        project: Project,
        *,
        root: Path | None = None,
        interval: float = 0.25,
    ) -> None:
        self.store = store
        self.queues = queues
        self.region = project.region
        self.root = root or project.root / BUCKETS
        self.interval = interval
        self.notifications = notifications(project)
        self.names = sorted({n.bucket for n in self.notifications})
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="faasport-buckets", daemon=True)

    def start(self) -> None:
        with self.store.lock:
            self.store.db.executescript(SCHEMA)
        if self.root.is_dir():  # buckets made earlier (CreateBucket, or by hand)
            self.names = sorted({*self.names, *(p.name for p in self.root.iterdir() if p.is_dir())})
        for name in self.names:
            (self.root / name).mkdir(parents=True, exist_ok=True)
        self.scan()
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    # -- objects ---------------------------------------------------------------------------

    def path(self, bucket: str, key: str) -> Path:
        if bucket not in self.names:
            known = ", ".join(self.names) or "none"
            raise QueueError(
                "NoSuchBucket", f'bucket "{bucket}" does not exist; the buckets are: {known}'
            )
        base = (self.root / bucket).resolve()
        target = (base / key).resolve()
        if not key or key.endswith("/") or base not in target.parents:
            raise QueueError("InvalidArgument", f"{key!r} is not an object key faasport can store")
        return target

    def create(self, bucket: str) -> None:
        import re

        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
            raise QueueError("InvalidBucketName", f"{bucket!r} is not a valid bucket name")
        with self._lock:
            (self.root / bucket).mkdir(parents=True, exist_ok=True)
            if bucket not in self.names:
                self.names = sorted([*self.names, bucket])

    def put(self, bucket: str, key: str, data: bytes) -> str:
        path = self.path(bucket, key)
        with self._lock:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{path.name}.faasport-partial")
            partial.write_bytes(data)
            os.replace(partial, path)
            self._scan_bucket(bucket)
        return hashlib.md5(data).hexdigest()

    def get(self, bucket: str, key: str) -> tuple[bytes, str, float]:
        path = self.path(bucket, key)
        try:
            data = path.read_bytes()
            modified = path.stat().st_mtime
        except (FileNotFoundError, IsADirectoryError):
            raise QueueError("NoSuchKey", "The specified key does not exist.") from None
        return data, hashlib.md5(data).hexdigest(), modified

    def delete(self, bucket: str, key: str) -> None:
        path = self.path(bucket, key)
        with self._lock:
            path.unlink(missing_ok=True)
            self._scan_bucket(bucket)

    def list(self, bucket: str, prefix: str = "") -> list[tuple[str, int, str, float]]:
        """``(key, size, etag, modified)`` of the bucket's objects under ``prefix``, by key."""
        self.path(bucket, "probe")
        with self.store.lock:
            rows = self.store.db.execute(
                "SELECT key, size, etag, mtime_ns FROM objects WHERE bucket = ? AND key >= ?"
                " ORDER BY key",
                (bucket, prefix),
            ).fetchall()
        return [(k, s, e, m / 1e9) for k, s, e, m in rows if k.startswith(prefix)]

    # -- watching --------------------------------------------------------------------------

    def _watch(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self.scan()
            except OSError:
                continue  # a file vanished mid-scan: the next turn sees the outcome

    def scan(self) -> None:
        with self._lock:
            for bucket in self.names:
                self._scan_bucket(bucket)

    def _scan_bucket(self, bucket: str) -> None:
        base = self.root / bucket
        found: dict[str, tuple[int, int]] = {}
        for directory, _, files in os.walk(base):
            for name in files:
                if name.endswith(".faasport-partial"):
                    continue
                path = Path(directory) / name
                stat = path.stat()
                found[path.relative_to(base).as_posix()] = (stat.st_size, stat.st_mtime_ns)
        with self.store.lock:
            known = {
                key: (size, mtime, etag)
                for key, size, mtime, etag in self.store.db.execute(
                    "SELECT key, size, mtime_ns, etag FROM objects WHERE bucket = ?", (bucket,)
                )
            }
        for key, (size, mtime) in found.items():
            seen = known.get(key)
            if seen is None or seen[:2] != (size, mtime):
                etag = _etag(base / key)
                self._emit(bucket, key, "created", size, etag)
                with self.store.transaction() as db:
                    db.execute(
                        "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?)",
                        (bucket, key, size, mtime, etag),
                    )
        for key in known.keys() - found.keys():
            self._emit(bucket, key, "removed", 0, "")
            with self.store.transaction() as db:
                db.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", (bucket, key))

    def _emit(self, bucket: str, key: str, change: str, size: int, etag: str) -> None:
        # Enqueued before the object table records it: a crash in between repeats the event
        # (at least once), never loses it.
        from faasport.aws.event_builder import build_event
        from faasport.core.records import ObjectChange

        record = ObjectChange(
            bucket,
            key,
            "created" if change == "created" else "removed",
            source="aws.s3",
            size=size,
            etag=etag or None,
            time=datetime.now(UTC).isoformat(timespec="milliseconds")[:23] + "Z",
        )
        [body] = build_event([record], self.region)["Records"]
        for notification in self.notifications:
            if notification.bucket == bucket and notification.wants(key, change):
                self.queues.send_batch(notification.queue, [Outgoing(json.dumps(body))])
