"""A Flask app with a JSON route and a form route, as a small API would have."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request

app = Flask(__name__)
NOTES: dict[int, str] = {1: "first"}


@app.get("/notes/<int:note_id>")
def read(note_id: int) -> Any:
    if note_id not in NOTES:
        return jsonify(error="no such note"), 404
    return jsonify(id=note_id, text=NOTES[note_id], q=request.args.get("q"))


@app.post("/notes")
def create() -> Any:
    text = (request.get_json(silent=True) or {}).get("text", "")
    NOTES[len(NOTES) + 1] = text
    return jsonify(id=len(NOTES), text=text), 201
