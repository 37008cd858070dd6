"""The shape of an HTTP codec: one provider's request format to the canonical request, and
the canonical response back (``codecs=`` of :func:`faasport.aws.handler` takes these).

Importable at run time for users' annotations and their own codecs; faasport's own codecs
declare conformance to the type checker only, since importing :mod:`typing` would cost
every cold start several milliseconds.

```python
from faasport.core.codec import Codec

class MyGateway:  # conforms to Codec[Mapping[str, Any], dict[str, Any]]
    name = "my-gateway"
    def infer(self, event): return "myGateway" in event
    def decode(self, event, context, options): ...  # -> HttpRequest
    def encode(self, response, event, options): ...  # -> the provider's result
```
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from faasport.core.http import HttpRequest, HttpResponse
from faasport.core.options import AppOptions

__all__ = ["Codec", "EventT", "ResultT"]

#: What the provider hands the function (a Lambda event, a flask or azure request).
EventT = TypeVar("EventT", contravariant=True)
#: What the function hands back (a Lambda result, a flask or azure response).
ResultT = TypeVar("ResultT", covariant=True)


class Codec(Protocol[EventT, ResultT]):
    #: The source's name in messages and logs (``"apigw-v2"``, ``"gcp"``...).
    name: str

    def infer(self, event: EventT) -> bool:
        """True when ``event`` is in this codec's format."""
        ...

    def decode(self, event: EventT, context: Any, options: AppOptions) -> HttpRequest:
        """The canonical request carried by ``event``; raises
        :class:`~faasport.core.errors.UnsupportedEventError` naming the field that is
        missing or of the wrong type."""
        ...

    def encode(self, response: HttpResponse, event: EventT, options: AppOptions) -> ResultT:
        """What answers ``event`` with ``response``."""
        ...
