"""A blocking wrapper for notebooks and scripts.

The asyncio :class:`~latentstream.client.Client` runs on an event loop in a daemon thread that this object
owns, so it works where a loop is already running in the calling thread (Jupyter) and where none is.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Dict, Iterator, List, Optional, Sequence

from .client import Client, JobRef, Subscription
from .messages import Attributed, Decoded, Encoded, Interpolated, Job


class SyncSubscription:
    """A blocking iterator over one job's messages: ``for msg in client.subscribe(1): ...``."""

    def __init__(self, owner: "SyncClient", sub: Subscription):
        self._owner = owner
        self._sub = sub

    @property
    def job(self) -> Optional[Job]:
        return self._sub.job

    @property
    def streams(self) -> List[str]:
        return self._sub.streams

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        try:
            return self._owner._run(self._sub.__anext__())
        except StopAsyncIteration:
            raise StopIteration from None

    def next(self, timeout: Optional[float] = None) -> Any:
        """The next message, waiting at most ``timeout`` seconds (``TimeoutError`` after that)."""
        try:
            return self._owner._run(self._sub.next(timeout))
        except asyncio.TimeoutError:
            raise TimeoutError(f"no message within {timeout} s") from None

    def close(self) -> None:
        self._owner._run(self._sub.close())

    def __enter__(self) -> "SyncSubscription":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SyncClient:
    """The same calls as :class:`~latentstream.client.Client`, blocking. Close it (or use ``with``)."""

    def __init__(self, url: str, token: Optional[str] = None, *, timeout: float = 60.0):
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="latentstream-client", daemon=True)
        self._thread.start()
        self._client = Client(url, token, timeout=timeout)
        try:
            self._run(self._client.connect())
        except BaseException:
            self._stop_loop()
            raise

    def _run(self, coro) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()

    @property
    def authorized(self) -> bool:
        return self._client.authorized

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._run(self._client.close())
        finally:
            self._stop_loop()

    def __enter__(self) -> "SyncClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def jobs(self) -> List[Job]:
        return self._run(self._client.jobs())

    def job(self, job: JobRef) -> Job:
        return self._run(self._client.job(job))

    def runs(self) -> List[Dict[str, Any]]:
        return self._run(self._client.runs())

    def metrics(self, job: JobRef) -> Any:
        return self._run(self._client.metrics(job))

    def subscribe(self, job: JobRef, streams: Optional[Sequence[str]] = None, *,
                  max_fps: Optional[float] = None, latent_format: str = "png") -> SyncSubscription:
        async def started() -> Subscription:
            return await self._client.subscribe(job, streams, max_fps=max_fps, latent_format=latent_format)

        return SyncSubscription(self, self._run(started()))

    def start(self, preset: Optional[str] = None, *, spec: Optional[Dict[str, Any]] = None,
              epochs: Optional[int] = None) -> Job:
        return self._run(self._client.start(preset, spec=spec, epochs=epochs))

    def start_sweep(self, preset: Optional[str] = None, *, spec: Optional[Dict[str, Any]] = None,
                    sweep: Dict[str, Sequence[Any]], epochs: Optional[int] = None) -> List[Job]:
        return self._run(self._client.start_sweep(preset, spec=spec, sweep=sweep, epochs=epochs))

    def pause(self, job: JobRef) -> Job:
        return self._run(self._client.pause(job))

    def resume(self, job: JobRef) -> Job:
        return self._run(self._client.resume(job))

    def stop(self, job: JobRef) -> Job:
        return self._run(self._client.stop(job))

    def delete(self, job: JobRef) -> Dict[str, Any]:
        return self._run(self._client.delete(job))

    def set(self, job: JobRef, key: str, value: float) -> Dict[str, Any]:
        return self._run(self._client.set(job, key, value))

    def decode(self, job: JobRef, z: Optional[Sequence[Any]] = None, *,
               plane: Optional[Sequence[float]] = None) -> Decoded:
        return self._run(self._client.decode(job, z, plane=plane))

    def encode(self, job: JobRef, pixels: Any) -> Encoded:
        return self._run(self._client.encode(job, pixels))

    def interpolate(self, job: JobRef, start: Any, end: Any, *, steps: int = 8, mode: str = "linear") -> Interpolated:
        return self._run(self._client.interpolate(job, start, end, steps=steps, mode=mode))

    def attribute(self, job: JobRef, start: Any, plus: int, minus: int, scale: float = 1.0) -> Attributed:
        return self._run(self._client.attribute(job, start, plus, minus, scale))

    def export(self, job: JobRef, format: str = "safetensors", *, part: str = "all") -> bytes:
        return self._run(self._client.export(job, format, part=part))

    def model(self, job: JobRef, *, part: str = "all"):
        return self._run(self._client.model(job, part=part))

    def ping(self) -> float:
        return self._run(self._client.ping())
