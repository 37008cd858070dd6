"""Small real apps the tests run: the same endpoints in Starlette, FastAPI and Flask."""

from __future__ import annotations

import gzip
import json
from typing import Any

# FastAPI resolves endpoint annotations from module globals.
from fastapi import Form, Request, Response, UploadFile

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + bytes(range(256))
GZIP_JSON = gzip.compress(json.dumps({"compressed": True}).encode(), mtime=0)


#: A streamed response body, in the chunks the app sends.
CHUNKS = [b"chunk-%d;" % i for i in range(5)]
#: A response header sent twice (a list-valued header, so it may be joined with ", ").
TAGS = [("x-tag", "one"), ("x-tag", "two")]


def with_tags(response: Any) -> Any:
    """A Starlette response with the TAGS headers appended (a mapping cannot repeat them)."""
    for name, value in TAGS:
        response.headers.append(name, value)
    return response


async def chunks() -> Any:
    for chunk in CHUNKS:
        yield chunk


def uploaded(filename: str | None, content: bytes, note: str | None) -> dict[str, Any]:
    """What the upload endpoints answer: the form's file and field."""
    return {"filename": filename, "size": len(content), "sha": content.hex()[:16], "note": note}


def seen_by_asgi(request: Any, body: bytes) -> dict[str, Any]:
    """What a Starlette or FastAPI endpoint sees of its request, as JSON."""
    scope = request.scope
    return {
        "method": request.method,
        "path": scope["path"],
        "root_path": scope["root_path"],
        "route_path": scope["path"][len(scope["root_path"]) :],
        "raw_path": scope["raw_path"].decode("latin-1"),
        "query": request.query_params.multi_items(),
        "cookies": request.cookies,
        "headers": [[k.decode(), v.decode()] for k, v in scope["headers"]],
        "body": body.hex(),
        "client": list(scope["client"]) if scope["client"] else None,
        "scheme": scope["scheme"],
        "server": list(scope["server"]) if scope["server"] else None,
    }


def starlette_app() -> Any:
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, Response, StreamingResponse
    from starlette.routing import Route

    async def echo(request: Request) -> Response:
        return JSONResponse(seen_by_asgi(request, await request.body()))

    async def cookies(request: Request) -> Response:
        response = Response("cookies", media_type="text/plain")
        for name in ("a", "b", "c"):
            response.set_cookie(name, name * 3)
        return response

    async def png(request: Request) -> Response:
        return Response(PNG, media_type="image/png")

    async def gzipped(request: Request) -> Response:
        return Response(
            GZIP_JSON, media_type="application/json", headers={"content-encoding": "gzip"}
        )

    async def empty(request: Request) -> Response:
        return Response(status_code=204)

    async def boom(request: Request) -> Response:
        raise RuntimeError("secret detail")

    async def stream(request: Request) -> Response:
        return StreamingResponse(chunks(), media_type="text/plain")

    async def tags(request: Request) -> Response:
        return with_tags(Response("tags", media_type="text/plain"))

    async def upload(request: Request) -> Response:
        async with request.form() as form:
            file = form["file"]
            assert not isinstance(file, str)
            note = form.get("note")
            return JSONResponse(uploaded(file.filename, await file.read(), str(note)))

    return Starlette(
        routes=[
            Route("/stream", stream),
            Route("/tags", tags),
            Route("/upload", upload, methods=["POST"]),
            Route("/cookies", cookies),
            Route("/png", png),
            Route("/gzip", gzipped),
            Route("/empty", empty, methods=["GET", "DELETE"]),
            Route("/boom", boom),
            Route("/echo/{rest:path}", echo, methods=["GET", "HEAD", "POST", "PUT", "DELETE"]),
        ]
    )


def fastapi_app() -> Any:
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse

    app = FastAPI()

    @app.api_route("/echo/{rest:path}", methods=["GET", "HEAD", "POST", "PUT", "DELETE"])
    async def echo(rest: str, request: Request) -> Response:
        return JSONResponse(seen_by_asgi(request, await request.body()))

    @app.get("/cookies")
    def cookies() -> Response:  # a sync endpoint: runs in anyio's thread pool
        response = PlainTextResponse("cookies")
        for name in ("a", "b", "c"):
            response.set_cookie(name, name * 3)
        return response

    @app.get("/png")
    async def png() -> Response:
        return Response(PNG, media_type="image/png")

    @app.get("/gzip")
    async def gzipped() -> Response:
        return Response(
            GZIP_JSON, media_type="application/json", headers={"content-encoding": "gzip"}
        )

    @app.api_route("/empty", methods=["GET", "DELETE"], response_class=Response)
    async def empty() -> Response:
        return Response(status_code=204)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret detail")

    @app.get("/stream")
    async def stream() -> Response:
        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/tags")
    async def tags() -> Response:
        return with_tags(PlainTextResponse("tags"))

    @app.post("/upload")
    async def upload(file: UploadFile, note: str | None = Form(None)) -> Any:
        return uploaded(file.filename, await file.read(), note)

    return app


def flask_app() -> Any:
    from flask import Flask, Response, request

    app = Flask(__name__)

    @app.route("/echo/<path:rest>", methods=["GET", "HEAD", "POST", "PUT", "DELETE"])
    def echo(rest: str) -> Response:
        environ = request.environ
        headers = [
            [k[5:].lower().replace("_", "-"), v]
            for k, v in environ.items()
            if k.startswith("HTTP_")
        ]
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers.append([key.lower().replace("_", "-"), environ[key]])
        path = request.path
        root = request.script_root
        return Response(
            json.dumps(
                {
                    "method": request.method,
                    "path": root + path,
                    "root_path": root,
                    "route_path": path,
                    "query": list(request.args.items(multi=True)),
                    "cookies": dict(request.cookies),
                    "headers": headers,
                    "body": request.get_data().hex(),
                    "client": [request.remote_addr, 0] if request.remote_addr else None,
                    "scheme": request.scheme,
                }
            ),
            mimetype="application/json",
        )

    @app.route("/cookies")
    def cookies() -> Response:
        response = Response("cookies", mimetype="text/plain")
        for name in ("a", "b", "c"):
            response.set_cookie(name, name * 3)
        return response

    @app.route("/png")
    def png() -> Response:
        return Response(PNG, mimetype="image/png")

    @app.route("/gzip")
    def gzipped() -> Response:
        return Response(
            GZIP_JSON, mimetype="application/json", headers={"content-encoding": "gzip"}
        )

    @app.route("/empty", methods=["GET", "DELETE"])
    def empty() -> Response:
        return Response(status=204)

    @app.route("/boom")
    def boom() -> Response:
        raise RuntimeError("secret detail")

    @app.route("/stream")
    def stream() -> Response:
        return Response((c.decode() for c in CHUNKS), mimetype="text/plain")

    @app.route("/tags")
    def tags() -> Response:
        return Response("tags", mimetype="text/plain", headers=TAGS)

    @app.route("/upload", methods=["POST"])
    def upload() -> Any:
        file = request.files["file"]
        return uploaded(file.filename, file.read(), request.form.get("note"))

    return app


APPS = {"starlette": starlette_app, "fastapi": fastapi_app, "flask": flask_app}
