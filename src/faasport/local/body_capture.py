"""A streamed response's body kept for the policies that asked for it
(:class:`~faasport.gateway.request.StreamedBody`; idempotency stores it) while it goes to
the client: the stream's pieces are kept, up to the body's limit, and handed over once
the stream has ended."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from faasport.gateway.request import StreamedBody
    from faasport.local.streaming import StreamedResponse


async def captured(
    response: StreamedResponse,
    body: StreamedBody,
    ended: Callable[[StreamedBody, bytes | None], Awaitable[None]],
) -> AsyncIterator[bytes | list[bytes]]:
    """``response``'s pieces as they come; then ``ended(body, the whole body)``, or
    ``ended(body, None)`` when the stream failed, was cut short (the client left, the server
    stopped) or passed the body's limit."""
    whole = False
    try:
        async for data in response.source:
            for piece in [data] if isinstance(data, bytes) else data:
                body.keep(piece)
            yield data
        whole = not response.failed()
    finally:
        close = getattr(response.source, "aclose", None)
        if close is not None:
            await close()
        await ended(body, body.kept(whole))
