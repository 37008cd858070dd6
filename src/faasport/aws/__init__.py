"""AWS Lambda entry point: ``handler = aws.handler("myapp.main:app")``."""

from faasport.aws.handler import CODECS, LambdaHandler, handler, infer_codec

__all__ = ["CODECS", "LambdaHandler", "handler", "infer_codec"]
