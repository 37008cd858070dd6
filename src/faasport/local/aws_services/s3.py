"""S3's REST protocol (path-style, as boto3 addresses a local endpoint) on the local buckets:
PutObject, GetObject, HeadObject, DeleteObject, ListObjectsV2 and CreateBucket."""

from __future__ import annotations

from email.utils import formatdate
from urllib.parse import parse_qsl, unquote
from xml.sax.saxutils import escape

from faasport.local.sources.buckets import Buckets
from faasport.local.sources.queues import QueueError

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
_LIST_PARAMETERS = {
    "list-type", "prefix", "max-keys", "continuation-token", "start-after", "encoding-type",
    "fetch-owner", "delimiter",
}  # fmt: skip
_STATUS = {"NoSuchKey": 404, "NoSuchBucket": 404, "NotImplemented": 501}


class Answer:
    def __init__(
        self, status: int, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> None:
        self.status = status
        self.body = body
        self.headers = headers or {}


def error(code: str, message: str, request_id: str, resource: str = "") -> Answer:
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{escape(code)}</Code>'
        f"<Message>{escape(message)}</Message><Resource>{escape(resource)}</Resource>"
        f"<RequestId>{request_id}</RequestId></Error>"
    ).encode()
    return Answer(_STATUS.get(code, 400), body, {"Content-Type": "application/xml"})


def _operation(method: str, key: str, query: dict[str, str]) -> str:
    if not key:
        return {"GET": "ListObjects", "PUT": "CreateBucket", "HEAD": "HeadBucket"}.get(
            method, f"{method} bucket"
        )
    return {
        "GET": "GetObject",
        "PUT": "PutObject",
        "HEAD": "HeadObject",
        "DELETE": "DeleteObject",
    }.get(method, f"{method} object")


def handle(buckets: Buckets, method: str, target: str, body: bytes, request_id: str) -> Answer:
    path, _, query_text = target.partition("?")
    query = dict(parse_qsl(query_text, keep_blank_values=True))
    bucket, _, key = unquote(path).lstrip("/").partition("/")
    operation = _operation(method, key, query)
    extra = set(query) - (_LIST_PARAMETERS if not key else set()) - {"x-id"}
    try:
        if extra or operation.endswith((" bucket", " object")):
            what = f"{operation} ?{','.join(sorted(extra))}" if extra else operation
            raise QueueError(
                "NotImplemented", f"faasport dev does not emulate the S3 operation {what}"
            )
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
        if operation == "DeleteObject":
            buckets.delete(bucket, key)
            return Answer(204)
        data, etag, modified = buckets.get(bucket, key)
        headers = {
            "ETag": f'"{etag}"',
            "Last-Modified": formatdate(modified, usegmt=True),
            "Content-Type": "application/octet-stream",
            "Content-Length": str(len(data)),
        }
        return Answer(200, b"" if method == "HEAD" else data, headers)
    except QueueError as exc:
        return error(exc.code, str(exc), request_id, f"/{bucket}/{key}")


def _list(buckets: Buckets, bucket: str, query: dict[str, str]) -> Answer:
    prefix = query.get("prefix", "")
    limit = int(query.get("max-keys") or 1000)
    after = query.get("continuation-token") or query.get("start-after") or ""
    objects = [o for o in buckets.list(bucket, prefix) if o[0] > after]
    page, more = objects[:limit], len(objects) > limit
    contents = "".join(
        f"<Contents><Key>{escape(key)}</Key>"
        f"<LastModified>{formatdate(modified, usegmt=True)}</LastModified>"
        f'<ETag>"{etag}"</ETag><Size>{size}</Size><StorageClass>STANDARD</StorageClass>'
        "</Contents>"
        for key, size, etag, modified in page
    )
    token = f"<NextContinuationToken>{escape(page[-1][0])}</NextContinuationToken>" if more else ""
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="{NAMESPACE}">'
        f"<Name>{escape(bucket)}</Name><Prefix>{escape(prefix)}</Prefix>"
        f"<KeyCount>{len(page)}</KeyCount><MaxKeys>{limit}</MaxKeys>"
        f"<IsTruncated>{'true' if more else 'false'}</IsTruncated>{token}{contents}"
        "</ListBucketResult>"
    ).encode()
    return Answer(200, body, {"Content-Type": "application/xml"})
