"""Run the ASGI app under granian (chosen by measurement, see README) or uvicorn."""

from __future__ import annotations


def serve(*, host: str, port: int, workers: int = 1, server: str = "granian") -> None:
    if server == "uvicorn":
        import uvicorn

        uvicorn.run("gatewayz.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                    loop="uvloop", http="httptools", access_log=False, lifespan="on")
        return
    from granian.constants import Interfaces, Loops
    from granian.server import Server

    Server(
        "gatewayz.app:app_from_env", address=host, port=port, interface=Interfaces.ASGI, workers=workers,
        factory=True, loop=Loops.uvloop, log_access=False, respawn_failed_workers=True,
    ).serve()
