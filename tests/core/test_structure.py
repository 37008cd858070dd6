"""The core layer's public types are importable at run time, and every provider's codec
has the protocol's members (import directions are tests/test_layers.py's)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import faasport.core

CORE = Path(faasport.core.__file__).parent


def test_codec_protocol_and_asgi_types_are_importable() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from faasport.core.codec import Codec; from faasport.core.types import ASGIApp, "
            "Scope; from faasport.core import logs, jsonlog; "
            "assert logs.get is jsonlog.get; print(Codec.__name__)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "Codec"


def test_provider_codecs_conform_to_the_protocol() -> None:
    from faasport.aws.handler import CODECS
    from faasport.azure.codec import AzureHttp
    from faasport.core.codec import Codec
    from faasport.gcp.codec import CODEC

    for codec in (*CODECS, CODEC, AzureHttp("/api")):
        for member in ("infer", "decode", "encode"):
            assert callable(getattr(codec, member)), (codec, member)
        assert isinstance(codec.name, str)
    assert Codec.__module__ == "faasport.core.codec"
