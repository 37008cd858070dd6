"""Local S3 buckets: a directory per bucket under ``.faasport/buckets/``. Putting, copying or
deleting an object through the S3 endpoint or ``faasport bucket``, or writing or removing a
file in the directory yourself, emits S3's ObjectCreated / ObjectRemoved event to the
functions whose bucket events match it (``on``, ``prefix``, ``suffix``).

An object whose key is a plain relative path (``in/cat.png``) is the file of that path, so
the directory can be browsed and edited by hand. Any other key S3 allows (``folder/``,
``d//e``, ``x/../y``, a NUL, a segment longer than the file system allows, ``p/q`` beside an
object ``p``, a name differing only in case from an existing file) lives in the bucket's
``.faasport-keyed/`` directory: a file named by the SHA-256 of its key, with the key beside it
in ``NAME.key``. Directories written by earlier versions, where every key was a plain file,
are read as they are: nothing is migrated.

What was last seen of each object is kept in the event store, and the directories are
compared with it at start and every ``interval`` seconds after, so a file written while
``faasport dev`` was down still produces its event. Deliveries wait in internal queues
(``_s3:BUCKET:FUNCTION:N``), as topic deliveries do.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from faasport.local.sources.queues import Outgoing, QueueError, Queues, Received
from faasport.local.sources.store import Store

if TYPE_CHECKING:
    from faasport.config.model import Project

BUCKETS = Path(".faasport") / "buckets"
#: In each bucket directory: the objects whose keys cannot be plain files.
KEYED = ".faasport-keyed"
#: The suffix of a file being written; renamed into place once whole.
PARTIAL = ".faasport-partial"
#: S3's limit on a key's length, in UTF-8 bytes.
MAX_KEY_BYTES = 1024
_NAME_MAX = 255
_KEYED_NAME = re.compile(r"[0-9a-f]{64}")
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


def _s3_key(key: str) -> bool:
    try:
        return len(key.encode()) <= MAX_KEY_BYTES
    except UnicodeEncodeError:  # a file name that is not UTF-8
        return False


def check_key(key: str) -> None:
    """Refuse what S3 refuses: an empty key, or one longer than 1,024 bytes of UTF-8."""
    try:
        size = len(key.encode())
    except UnicodeEncodeError:
        raise QueueError("InvalidArgument", f"{key!r} is not valid UTF-8") from None
    if not key:
        raise QueueError("InvalidArgument", "an object key cannot be empty")
    if size > MAX_KEY_BYTES:
        raise QueueError(
            "KeyTooLongError", f"the key is {size} bytes long; S3 allows {MAX_KEY_BYTES}"
        )


def _plain_file(base: Path, key: str) -> Path | None:
    """The file that is (or would be) the object ``key`` of the bucket at ``base``, or None
    when the key cannot be a plain file there."""
    parts = key.split("/")
    if parts[0] == KEYED or parts[-1].endswith(PARTIAL):
        return None
    for part in parts:
        if part in ("", ".", "..") or "\0" in part or len(part.encode()) > _NAME_MAX:
            return None
    path = base
    for index, part in enumerate(parts):
        try:
            mode = os.lstat(path / part).st_mode
        except FileNotFoundError:
            return base.joinpath(*parts)
        except OSError:  # a path longer than the file system allows
            return None
        last = index == len(parts) - 1
        kind_fits = stat.S_ISREG(mode) if last else stat.S_ISDIR(mode)
        # The exact name, not one a case-insensitive file system takes for it.
        if not kind_fits or part not in os.listdir(path):
            return None
        path = path / part
    return path


def _write(path: Path, data: bytes) -> None:
    """``data`` into ``path``, whole or not at all."""
    partial = path.with_name(f".{path.name}{PARTIAL}")
    partial.write_bytes(data)
    os.replace(partial, path)


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
        #: The key of each file of ``.faasport-keyed/`` already read, by bucket and file name.
        self._keyed: dict[tuple[str, str], str] = {}

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

    def directory(self, bucket: str) -> Path:
        """The bucket's directory; NoSuchBucket when there is no such bucket."""
        if bucket not in self.names:
            known = ", ".join(self.names) or "none"
            raise QueueError(
                "NoSuchBucket", f'bucket "{bucket}" does not exist; the buckets are: {known}'
            )
        return self.root / bucket

    def create(self, bucket: str) -> None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
            raise QueueError("InvalidBucketName", f"{bucket!r} is not a valid bucket name")
        with self._lock:
            (self.root / bucket).mkdir(parents=True, exist_ok=True)
            if bucket not in self.names:
                self.names = sorted([*self.names, bucket])

    def put(self, bucket: str, key: str, data: bytes, *, event: str = "Put") -> str:
        """Store the object; its ETag. ``event`` names the ObjectCreated event it sends."""
        base = self.directory(bucket)
        check_key(key)
        with self._lock:
            plain = _plain_file(base, key)
            keyed = self._keyed_file(base, key)
            if plain is not None:
                plain.parent.mkdir(parents=True, exist_ok=True)
                _write(plain, data)
                keyed.unlink(missing_ok=True)
            else:
                keyed.parent.mkdir(parents=True, exist_ok=True)
                sidecar = keyed.with_name(f"{keyed.name}.key")
                if not sidecar.exists():
                    _write(sidecar, key.encode())
                _write(keyed, data)
            self._scan_bucket(bucket, {key: event})
        return hashlib.md5(data).hexdigest()

    def get(self, bucket: str, key: str) -> tuple[bytes, str, float]:
        base = self.directory(bucket)
        check_key(key)
        for path in (_plain_file(base, key), self._keyed_file(base, key)):
            try:
                if path is not None:
                    data = path.read_bytes()
                    return data, hashlib.md5(data).hexdigest(), path.stat().st_mtime
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                continue
        raise QueueError("NoSuchKey", "The specified key does not exist.")

    def delete(self, bucket: str, key: str) -> None:
        base = self.directory(bucket)
        check_key(key)
        with self._lock:
            plain = _plain_file(base, key)
            if plain is not None:
                plain.unlink(missing_ok=True)
                for parent in plain.parents:  # S3 has no folders: none is left empty
                    if parent == base or not _remove_empty(parent):
                        break
            keyed = self._keyed_file(base, key)
            keyed.unlink(missing_ok=True)
            keyed.with_name(f"{keyed.name}.key").unlink(missing_ok=True)
            self._scan_bucket(bucket)

    def list(self, bucket: str, prefix: str = "") -> list[tuple[str, int, str, float]]:
        """``(key, size, etag, modified)`` of the bucket's objects under ``prefix``, by key."""
        self.directory(bucket)
        with self.store.lock:
            rows = self.store.db.execute(
                "SELECT key, size, etag, mtime_ns FROM objects WHERE bucket = ? AND key >= ?"
                " ORDER BY key",
                (bucket, prefix),
            ).fetchall()
        return [(k, s, e, m / 1e9) for k, s, e, m in rows if k.startswith(prefix)]

    def _keyed_file(self, base: Path, key: str) -> Path:
        return base / KEYED / hashlib.sha256(key.encode()).hexdigest()

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

    def _files(self, bucket: str) -> dict[str, tuple[int, int, Path]]:
        """``key -> (size, mtime_ns, file)`` of every object in the bucket's directory."""
        base = self.root / bucket
        found: dict[str, tuple[int, int, Path]] = {}
        for directory, folders, files in os.walk(base):
            if directory == str(base) and KEYED in folders:
                folders.remove(KEYED)
            for name in files:
                if name.endswith(PARTIAL):
                    continue
                path = Path(directory) / name
                key = path.relative_to(base).as_posix()
                if not _s3_key(key):
                    continue  # a name no S3 client could ask for
                info = path.stat()
                found[key] = (info.st_size, info.st_mtime_ns, path)
        keyed = base / KEYED
        for name in os.listdir(keyed) if keyed.is_dir() else []:
            if not _KEYED_NAME.fullmatch(name):
                continue
            named = self._keyed.get((bucket, name))
            if named is None:
                try:
                    named = (keyed / f"{name}.key").read_bytes().decode()
                except FileNotFoundError:
                    continue  # the key was never written whole: the put did not finish
                self._keyed[bucket, name] = named
            info = (keyed / name).stat()
            found.setdefault(named, (info.st_size, info.st_mtime_ns, keyed / name))
        return found

    def _scan_bucket(self, bucket: str, events: dict[str, str] | None = None) -> None:
        found = self._files(bucket)
        with self.store.lock:
            known = {
                key: (size, mtime, etag)
                for key, size, mtime, etag in self.store.db.execute(
                    "SELECT key, size, mtime_ns, etag FROM objects WHERE bucket = ?", (bucket,)
                )
            }
        for key, (size, mtime, path) in found.items():
            seen = known.get(key)
            if seen is None or seen[:2] != (size, mtime):
                etag = _etag(path)
                event = (events or {}).get(key, "Put")
                self._emit(bucket, key, f"ObjectCreated:{event}", size, etag)
                with self.store.transaction() as db:
                    db.execute(
                        "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?)",
                        (bucket, key, size, mtime, etag),
                    )
        for key in known.keys() - found.keys():
            self._emit(bucket, key, "ObjectRemoved:Delete", 0, "")
            with self.store.transaction() as db:
                db.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", (bucket, key))

    def _emit(self, bucket: str, key: str, name: str, size: int, etag: str) -> None:
        # Enqueued before the object table records it: a crash in between repeats the event
        # (at least once), never loses it.
        from faasport.aws.event_builder import build_event
        from faasport.core.records import ObjectChange

        change: Literal["created", "removed"] = (
            "created" if name.startswith("ObjectCreated") else "removed"
        )
        record = ObjectChange(
            bucket,
            key,
            change,
            source="aws.s3",
            size=size,
            etag=etag or None,
            time=datetime.now(UTC).isoformat(timespec="milliseconds")[:23] + "Z",
        )
        [body] = build_event([record], self.region)["Records"]
        body["eventName"] = name
        for notification in self.notifications:
            if notification.bucket == bucket and notification.wants(key, change):
                self.queues.send_batch(notification.queue, [Outgoing(json.dumps(body))])


def _remove_empty(directory: Path) -> bool:
    """Remove ``directory`` if it is empty; whether it was."""
    try:
        directory.rmdir()
    except OSError:
        return False
    return True
