"""AWS Lambda entry point: ``handler = aws.handler("myapp.main:app")``."""

from faasport.aws.handler import CODECS, LambdaHandler, handler, infer_codec
from faasport.aws.snapstart import on_restore
from faasport.websocket.routing import router as websocket

__all__ = ["CODECS", "LambdaHandler", "handler", "infer_codec", "on_restore", "websocket"]
