"""S3's REST protocol (path-style, as boto3 addresses a local endpoint) on the local buckets:
PutObject, CopyObject, GetObject (ranges, conditions), HeadObject, DeleteObject,
ListObjectsV2, ListBuckets, HeadBucket and CreateBucket.

Every answer other than a success is S3's XML error (Code, Message, Resource, RequestId),
whatever went wrong."""

from __future__ import annotations

import base64
import binascii
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from urllib.parse import parse_qsl, quote, unquote
from xml.sax.saxutils import escape

from faasport.local.sources.buckets import Buckets
from faasport.local.sources.queues import QueueError

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
_LIST_PARAMETERS = {
    "list-type", "prefix", "max-keys", "continuation-token", "start-after", "encoding-type",
    "fetch-owner", "delimiter",
}  # fmt: skip
_STATUS = {
    "NoSuchKey": 404,
    "NoSuchBucket": 404,
    "PreconditionFailed": 412,
    "InvalidRange": 416,
    "InternalError": 500,
    "NotImplemented": 501,
}
#: What XML 1.0 cannot carry, even as a character reference.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_XML = {"Content-Type": "application/xml"}


class Answer:
    def __init__(
        self, status: int, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> None:
        self.status = status
        self.body = body
        self.headers = headers or {}


def _text(value: str) -> str:
    """``value`` as XML character data; what XML cannot carry becomes U+FFFD."""
    return _NOT_XML.sub("\ufffd", escape(value, {"\r": "&#13;"}))


def error(code: str, message: str, request_id: str, resource: str = "") -> Answer:
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{_text(code)}</Code>'
        f"<Message>{_text(message)}</Message><Resource>{_text(resource)}</Resource>"
        f"<RequestId>{request_id}</RequestId></Error>"
    ).encode()
    return Answer(_STATUS.get(code, 400), body, dict(_XML))


def _operation(method: str, bucket: str, key: str, fields: Mapping[str, str] | None) -> str:
    if not bucket:
        return "ListBuckets" if method == "GET" else f"{method} service"
    if not key:
        return {"GET": "ListObjects", "PUT": "CreateBucket", "HEAD": "HeadBucket"}.get(
            method, f"{method} bucket"
        )
    if method == "PUT" and fields is not None and "x-amz-copy-source" in fields:
        return "CopyObject"
    return {
        "GET": "GetObject",
        "PUT": "PutObject",
        "HEAD": "HeadObject",
        "DELETE": "DeleteObject",
    }.get(method, f"{method} object")


def handle(
    buckets: Buckets,
    method: str,
    target: str,
    body: bytes,
    request_id: str,
    fields: Mapping[str, str] | None = None,
) -> Answer:
    """The answer to one request; ``fields`` are its headers by lower-case name (without
    them a copy looks like an empty put, and ranges and conditions go unseen)."""
    path, _, query_text = target.partition("?")
    resource = path
    try:
        bucket, _, key = unquote(path, errors="strict").lstrip("/").partition("/")
        query = dict(parse_qsl(query_text, keep_blank_values=True))
        return _handle(buckets, method, bucket, key, query, body, fields)
    except UnicodeDecodeError:
        return error("InvalidURI", "the request's path is not UTF-8", request_id, resource)
    except QueueError as exc:
        return error(exc.code, str(exc), request_id, resource)
    except Exception as exc:  # a bug or a file system error: answered, never shown
        sys.stderr.write(f"faasport dev: S3: {method} {path}: {type(exc).__name__}: {exc}\n")
        return error("InternalError", "We encountered an internal error.", request_id, resource)


def _handle(
    buckets: Buckets,
    method: str,
    bucket: str,
    key: str,
    query: dict[str, str],
    body: bytes,
    fields: Mapping[str, str] | None,
) -> Answer:
    operation = _operation(method, bucket, key, fields)
    extra = set(query) - (_LIST_PARAMETERS if operation == "ListObjects" else set()) - {"x-id"}
    if extra or operation.endswith((" service", " bucket", " object")):
        what = f"{operation} ?{','.join(sorted(extra))}" if extra else operation
        raise QueueError("NotImplemented", f"faasport dev does not emulate the S3 operation {what}")
    headers = fields or {}
    if operation == "ListBuckets":
        return _list_buckets(buckets)
    if operation == "ListObjects":
        return _list(buckets, bucket, query)
    if operation in ("CreateBucket", "HeadBucket"):
        if operation == "CreateBucket":
            buckets.create(bucket)
        buckets.directory(bucket)
        return Answer(200, headers={"Location": f"/{bucket}"})
    if operation == "PutObject":
        etag = buckets.put(bucket, key, body)
        return Answer(200, headers={"ETag": f'"{etag}"'})
    if operation == "CopyObject":
        return _copy(buckets, bucket, key, headers)
    if operation == "DeleteObject":
        buckets.delete(bucket, key)
        return Answer(204)
    data, etag, modified = buckets.get(bucket, key)
    described = {"ETag": f'"{etag}"', "Last-Modified": formatdate(modified, usegmt=True)}
    if _unchanged(headers, "", etag, modified):
        return Answer(304, headers=described)
    status, part, extent = _range(headers.get("range", ""), data)
    described |= {
        "Content-Type": "application/octet-stream",
        "Content-Length": str(len(part)),
        "Accept-Ranges": "bytes",
        **extent,
    }
    return Answer(status, b"" if method == "HEAD" else part, described)


def _unchanged(headers: Mapping[str, str], prefix: str, etag: str, modified: float) -> bool:
    """Whether the conditions (``if-*``, or ``x-amz-copy-source-if-*`` with their prefix)
    ask for no body (GET's 304); PreconditionFailed when they refuse the request, as any
    copy condition that does not hold does."""
    match, none_match = headers.get(f"{prefix}if-match"), headers.get(f"{prefix}if-none-match")
    refused = (match is not None and not _names(match, etag)) or (
        match is None and _since(headers.get(f"{prefix}if-unmodified-since"), modified) is True
    )
    unchanged = (none_match is not None and _names(none_match, etag)) or (
        none_match is None and _since(headers.get(f"{prefix}if-modified-since"), modified) is False
    )
    if refused or (unchanged and prefix):
        raise QueueError(
            "PreconditionFailed", "At least one of the pre-conditions you specified did not hold"
        )
    return unchanged


def _names(condition: str, etag: str) -> bool:
    """Whether an ``If-Match`` / ``If-None-Match`` list names ``etag``."""
    tags = {tag.strip().removeprefix("W/").strip('"') for tag in condition.split(",")}
    return etag in tags or "*" in tags


def _since(date: str | None, modified: float) -> bool | None:
    """Whether the object changed after ``date``; None without a date or with a bad one."""
    if not date:
        return None
    try:
        when = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        return None
    return int(modified) > when.timestamp()


def _range(header: str, data: bytes) -> tuple[int, bytes, dict[str, str]]:
    """``(status, body, headers)`` of a GET with this ``Range``: S3 serves one byte range
    and ignores a header it cannot read."""
    found = _RANGE.fullmatch(header.strip())
    if found is None or found.groups() == ("", ""):
        return 200, data, {}
    first, last = found.groups()
    size = len(data)
    if first:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
        if last and int(last) < start:
            return 200, data, {}
    else:
        start, end = max(size - int(last), 0), size - 1
    if start >= size or (not first and int(last) == 0):
        raise QueueError("InvalidRange", "The requested range is not satisfiable")
    return 206, data[start : end + 1], {"Content-Range": f"bytes {start}-{end}/{size}"}


def _copy(buckets: Buckets, bucket: str, key: str, headers: Mapping[str, str]) -> Answer:
    source, _, version = headers["x-amz-copy-source"].partition("?")
    if version:
        raise QueueError("NotImplemented", "faasport dev keeps no object versions to copy from")
    from_bucket, _, from_key = unquote(source, errors="strict").lstrip("/").partition("/")
    replace = headers.get("x-amz-metadata-directive", "COPY").upper() == "REPLACE"
    if (from_bucket, from_key) == (bucket, key) and not replace:
        raise QueueError(
            "InvalidRequest",
            "This copy request is illegal because it is trying to copy an object to itself"
            " without changing the object's metadata, storage class, website redirect"
            " location or encryption attributes.",
        )
    data, etag, modified = buckets.get(from_bucket, from_key)
    _unchanged(headers, "x-amz-copy-source-", etag, modified)
    etag = buckets.put(bucket, key, data, event="Copy")
    _, _, modified = buckets.get(bucket, key)
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><CopyObjectResult xmlns="{NAMESPACE}">'
        f'<LastModified>{_iso(modified)}</LastModified><ETag>"{etag}"</ETag>'
        "</CopyObjectResult>"
    ).encode()
    return Answer(200, body, dict(_XML))


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")[:23] + "Z"


def _list_buckets(buckets: Buckets) -> Answer:
    entries = []
    for name in buckets.names:
        try:
            created = buckets.directory(name).stat().st_mtime
        except OSError:
            continue  # removed by hand since
        entries.append(
            f"<Bucket><Name>{_text(name)}</Name><CreationDate>{_iso(created)}</CreationDate>"
            "</Bucket>"
        )
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult xmlns="{NAMESPACE}">'
        "<Owner><ID>faasport</ID><DisplayName>faasport</DisplayName></Owner>"
        f"<Buckets>{''.join(entries)}</Buckets></ListAllMyBucketsResult>"
    ).encode()
    return Answer(200, body, dict(_XML))


def _list(buckets: Buckets, bucket: str, query: dict[str, str]) -> Answer:
    prefix = query.get("prefix", "")
    delimiter = query.get("delimiter", "")
    encoding = query.get("encoding-type", "")
    if encoding not in ("", "url"):
        raise QueueError("InvalidArgument", "Invalid Encoding Method specified in Request")
    limit = _max_keys(query.get("max-keys"))
    token = query.get("continuation-token")
    after = _token_key(token) if token is not None else query.get("start-after", "")
    entries: list[tuple[str, tuple[str, int, str, float] | None]] = []
    for found in buckets.list(bucket, prefix) if limit else []:
        if len(entries) > limit:
            break
        key = found[0]
        if key <= after:
            continue
        cut = key.find(delimiter, len(prefix)) if delimiter else -1
        if cut < 0:
            entries.append((key, found))
            continue
        group = key[: cut + len(delimiter)]
        if group != after and (not entries or entries[-1][0] != group):
            entries.append((group, None))
    page, more = entries[:limit], len(entries) > limit

    def text(value: str) -> str:
        if encoding:
            return quote(value, safe="/")
        if _NOT_XML.search(value):
            raise QueueError(
                "InvalidArgument",
                f"the key {value!r} holds characters XML cannot carry: list with encoding-type=url",
            )
        return _text(value)

    contents = "".join(
        f"<Contents><Key>{text(name)}</Key><LastModified>{_iso(found[3])}</LastModified>"
        f'<ETag>"{found[2]}"</ETag><Size>{found[1]}</Size>'
        "<StorageClass>STANDARD</StorageClass></Contents>"
        if found is not None
        else f"<CommonPrefixes><Prefix>{text(name)}</Prefix></CommonPrefixes>"
        for name, found in page
    )
    echoed = "".join(
        f"<{element}>{value}</{element}>"
        for element, value in (
            ("Delimiter", text(delimiter) if delimiter else ""),
            ("EncodingType", encoding),
            ("StartAfter", text(query["start-after"]) if "start-after" in query else ""),
            ("ContinuationToken", _text(token or "")),
            ("NextContinuationToken", _token(page[-1][0]) if more else ""),
        )
        if value
    )
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="{NAMESPACE}">'
        f"<Name>{_text(bucket)}</Name><Prefix>{text(prefix)}</Prefix>{echoed}"
        f"<KeyCount>{len(page)}</KeyCount><MaxKeys>{limit}</MaxKeys>"
        f"<IsTruncated>{'true' if more else 'false'}</IsTruncated>{contents}"
        "</ListBucketResult>"
    ).encode()
    return Answer(200, body, dict(_XML))


def _max_keys(value: str | None) -> int:
    """``max-keys``: 1,000 unless asked for fewer."""
    if value is None or value == "":
        return 1000
    try:
        limit = int(value)
    except ValueError:
        limit = -1
    if limit < 0:
        raise QueueError(
            "InvalidArgument", "Provided max-keys not an integer or within integer range"
        )
    return min(limit, 1000)


def _token(key: str) -> str:
    """A continuation token: opaque to clients, the last key or common prefix listed."""
    return base64.urlsafe_b64encode(key.encode()).decode()


def _token_key(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, ValueError):
        raise QueueError(
            "InvalidArgument", "The continuation token provided is incorrect"
        ) from None
