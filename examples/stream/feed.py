"""Server-Sent Events from FastAPI, streamed by Lambda (response streaming) and faasport dev."""

import asyncio

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()


@app.get("/ticks")
async def ticks(count: int = 20) -> StreamingResponse:
    async def events():
        for i in range(count):
            yield f"data: tick {i}\n\n"
            await asyncio.sleep(0.1)

    return StreamingResponse(events(), media_type="text/event-stream")
