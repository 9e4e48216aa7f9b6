#!/usr/bin/python3
"""usage: websocket-echo.py URL IDLE_SECONDS

Opens a WebSocket to URL, sends "one" and reads its echo, stays idle IDLE_SECONDS, then sends
"two" and reads its echo. Prints the two echoes on one line, or what went wrong; exits non-zero
then."""
import asyncio
import sys

import websockets


async def main(url: str, idle: float) -> str:
    async with websockets.connect(url, open_timeout=10, ping_interval=None) as ws:
        await ws.send("one")
        first = await asyncio.wait_for(ws.recv(), 10)
        await asyncio.sleep(idle)
        await ws.send("two")
        second = await asyncio.wait_for(ws.recv(), 10)
        return f"{first} {second}"


try:
    print(asyncio.run(main(sys.argv[1], float(sys.argv[2]))))
except Exception as e:  # the test prints what the client saw
    print(f"failed: {type(e).__name__}: {e}")
    sys.exit(1)
