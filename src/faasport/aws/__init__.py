"""AWS Lambda entry point: ``handler = aws.handler("myapp.main:app")``."""

from faasport.aws.handler import CODECS, LambdaHandler, handler, infer_codec
from faasport.aws.snapstart import on_restore

__all__ = ["CODECS", "LambdaHandler", "handler", "infer_codec", "on_restore"]
