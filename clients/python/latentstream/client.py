"""The asyncio client: one WebSocket per :class:`Client`, requests matched to replies by ``id``.

One reader task owns the socket's incoming side. It resolves the future of each reply, keeps the job
table current from ``welcome``/``status``/``deleted``, and hands everything about a subscribed job to that
job's :class:`Subscription`. Like the server, a subscription conflates images: a consumer that falls behind
sees the newest frame of each kind, while loss points and every other message are kept in order.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections import deque
from typing import Any, Deque, Dict, Iterable, List, Optional, Sequence, Union
from urllib.parse import quote, urlsplit, urlunsplit

import websockets

from .messages import (PROTOCOL_VERSION, STREAMS, Attributed, BadServerMessage, ConnectionLost, Decoded, Deleted,
                       Encoded, ErrorMessage, Frame, Interpolated, Job, LatentstreamError, Status, Welcome, parse_frame,
                       parse_message, server_error)

log = logging.getLogger("latentstream")

JobRef = Union[int, str, Job]


# The server reads single WebSocket frames of at most 64 KiB; longer messages go out in fragments.
_FRAGMENT = 60_000


def ws_url(url: str, token: Optional[str]) -> str:
    """``http://host:port`` (the URL ``serve`` prints), ``ws://host:port`` or the full ``.../ws`` URL."""
    parts = urlsplit(url if "://" in url else "ws://" + url)
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme)
    if scheme is None:
        raise ValueError(f"not a server URL: {url!r} (expected http://HOST:PORT or ws://HOST:PORT/ws)")
    path = parts.path.rstrip("/")
    if not path.endswith("/ws"):
        path += "/ws"
    query = [q for q in parts.query.split("&") if q and not q.startswith("token=")]
    if token:
        query.append("token=" + quote(token, safe=""))
    return urlunsplit((scheme, parts.netloc, path, "&".join(query), ""))


def _job_ref(job: JobRef) -> Union[int, str]:
    if isinstance(job, Job):
        return job.num
    if isinstance(job, bool) or not isinstance(job, (int, str)):
        raise TypeError(f"a job is its number, its id string or a Job, not {job!r}")
    return job


class _FrameSlot:
    """A frame's place in a subscription's order; the frame itself is the newest of its kind at reading."""

    __slots__ = ("kind",)

    def __init__(self, kind: str):
        self.kind = kind


class Subscription:
    """The messages about one job, as an async iterator: ``async for msg in client.subscribe(1): ...``.

    ``await client.subscribe(...)`` instead returns the subscription once the server confirmed it, with
    ``job`` (the job object) and ``streams`` set. Iteration ends after :meth:`close`, when another
    ``subscribe`` for the same job replaces this one (the server then sends no second history), or when the
    connection closes (then it raises :class:`ConnectionLost`).
    """

    def __init__(self, client: "Client", job: JobRef, streams: Optional[Sequence[str]], max_fps: Optional[float],
                 latent_format: str = "png"):
        self._client = client
        self._ref = _job_ref(job)
        self._streams = list(streams) if streams is not None else None
        self._max_fps = max_fps
        self._latent_format = latent_format
        self._started: Optional[asyncio.Future] = None
        self._items: Deque[Any] = deque()
        self._frames: Dict[str, Frame] = {}
        self._wakeup: Optional[asyncio.Event] = None
        self._end: Optional[BaseException] = None
        self.job: Optional[Job] = None
        self.streams: List[str] = []

    # -- called by the client's reader --

    def _push(self, msg: Any) -> None:
        if isinstance(msg, Frame):
            # Keep only the newest frame per kind; its place in the order is where the first unread one was.
            if msg.kind not in self._frames:
                self._items.append(_FrameSlot(msg.kind))
            self._frames[msg.kind] = msg
        else:
            self._items.append(msg)
        self._wakeup.set()

    def _finish(self, reason: Optional[BaseException] = None) -> None:
        if self._end is None:
            self._end = reason or StopAsyncIteration()
        if self._wakeup is not None:
            self._wakeup.set()

    # -- public --

    async def _start(self) -> "Subscription":
        if self._started is None:
            self._started = asyncio.ensure_future(self._client._subscribe(self))
        await asyncio.shield(self._started)
        return self

    def __await__(self):
        return self._start().__await__()

    def __aiter__(self) -> "Subscription":
        return self

    async def __anext__(self) -> Any:
        await self._start()
        while not self._items:
            if isinstance(self._end, StopAsyncIteration):
                raise StopAsyncIteration
            if self._end is not None:
                raise self._end
            self._wakeup.clear()
            await self._wakeup.wait()
        item = self._items.popleft()
        return self._frames.pop(item.kind) if isinstance(item, _FrameSlot) else item

    async def next(self, timeout: Optional[float] = None) -> Any:
        """The next message, waiting at most ``timeout`` seconds (``asyncio.TimeoutError`` after that)."""
        return await asyncio.wait_for(self.__anext__(), timeout)

    async def close(self) -> None:
        """Unsubscribes (when the connection is still open) and ends the iteration, dropping unread messages."""
        self._items.clear()
        self._frames.clear()
        if self.job is not None and self._client._subscriptions.get(self.job.num) is self:
            del self._client._subscriptions[self.job.num]
            if self._client._open():
                await self._client._request("unsubscribe", job=self.job.num)
        self._finish()

    aclose = close


class Client:
    """An asyncio client of a latentstream server.

    ``url`` is what ``serve`` prints (``http://127.0.0.1:8080/``) or a ``ws://.../ws`` URL; ``token`` is the
    control token (needed for start, pause, resume, stop, delete and set). Use ``async with Client(url) as
    c:``, or ``await c.connect()`` and ``await c.close()``. Requests raise :class:`ServerError` (carrying
    ``code`` and ``message``) when the server answers with an error.
    """

    def __init__(self, url: str, token: Optional[str] = None, *, timeout: float = 60.0):
        self.url = ws_url(url, token)
        self.timeout = timeout
        self.welcome: Optional[Welcome] = None
        self._ws = None
        self._connecting: Optional[asyncio.Future] = None
        self._reader: Optional[asyncio.Task] = None
        self._ids = itertools.count(1)
        self._pending: Dict[str, asyncio.Future] = {}
        self._pending_types: Dict[str, str] = {}
        self._pending_subscriptions: Dict[str, Subscription] = {}
        self._subscriptions: Dict[int, Subscription] = {}
        self._jobs: Dict[int, Job] = {}
        self._welcomed: Optional[asyncio.Future] = None
        self._closed_because: Optional[BaseException] = None

    @property
    def authorized(self) -> bool:
        """Whether the server accepted the token (from the ``welcome`` message)."""
        return bool(self.welcome and self.welcome.authorized)

    async def connect(self) -> "Client":
        """Opens the socket and waits for ``welcome``; later calls (and concurrent ones) share that."""
        if self._connecting is None:
            self._connecting = asyncio.ensure_future(self._open_socket())
        await asyncio.shield(self._connecting)
        return self

    async def _open_socket(self) -> None:
        self._welcomed = asyncio.get_running_loop().create_future()
        try:
            # Server messages are sent in frames of at most 64 KiB, but one image may span several.
            self._ws = await websockets.connect(self.url, max_size=64 * 1024 * 1024, open_timeout=self.timeout)
        except (OSError, websockets.exceptions.InvalidHandshake, asyncio.TimeoutError) as e:
            raise ConnectionLost(f"cannot connect to {self.url.split('?')[0]}: {e}") from e
        self._reader = asyncio.ensure_future(self._read())
        await asyncio.wait_for(asyncio.shield(self._welcomed), self.timeout)

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
            if self._reader is not None:
                await asyncio.gather(self._reader, return_exceptions=True)
        for sub in list(self._subscriptions.values()):
            sub._finish()

    async def __aenter__(self) -> "Client":
        return await self.connect()

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # -- jobs and streams --

    async def jobs(self) -> List[Job]:
        """Every job the server knows, by number (kept current from ``status`` and ``deleted`` messages)."""
        await self.connect()
        return [self._jobs[n] for n in sorted(self._jobs)]

    async def job(self, job: JobRef) -> Job:
        """One job by number or id; :class:`ServerError` ``unknown_job`` when there is none."""
        ref = _job_ref(job)
        for j in await self.jobs():
            if ref in (j.num, j.id):
                return j
        raise server_error({"code": "unknown_job", "message": f"no job {ref!r}"}, "job")

    def subscribe(self, job: JobRef, streams: Optional[Sequence[str]] = None, *,
                  max_fps: Optional[float] = None, latent_format: str = "png") -> Subscription:
        """The job's messages: ``History`` first (with ``loss``), then ``Loss``, ``Frame``, ``Plane``, ``Epoch``,
        ``Status``, ``Setting``, ``Log``, ``Diagnostics``, ``JobWarning``, ... as they happen.

        ``streams`` defaults to all the server offers; ``max_fps`` caps images per stream per second.
        ``latent_format="points"`` has the latent scatter sent as :class:`LatentPoints` (a few KB: coordinates
        and labels, to plot yourself) instead of a PNG.
        """
        if latent_format not in ("png", "points"):
            raise ValueError("latent_format must be 'png' or 'points'")
        if streams is not None:
            streams = [streams] if isinstance(streams, str) else list(streams)
        if max_fps is not None and not max_fps > 0:
            raise ValueError("max_fps must be a number above 0")
        return Subscription(self, job, streams, max_fps, latent_format)

    # -- control (token) --

    async def start(self, preset: Optional[str] = None, *, spec: Optional[Dict[str, Any]] = None,
                    epochs: Optional[int] = None) -> Job:
        """Starts a job from a preset name (``config/jobs/``) or a job spec; the reply's job (``queued``)."""
        if (preset is None) == (spec is None):
            raise ValueError("give exactly one of preset (a name) or spec (a job object)")
        fields: Dict[str, Any] = {"preset": preset} if preset is not None else {"spec": spec}
        if epochs is not None:
            fields["epochs"] = epochs
        return Job.from_json((await self._request("start", **fields))["result"])

    async def pause(self, job: JobRef) -> Job:
        return Job.from_json((await self._request("pause", job=_job_ref(job)))["result"])

    async def resume(self, job: JobRef) -> Job:
        """Continues a paused job, or a finished or stopped one from its last checkpoint."""
        return Job.from_json((await self._request("resume", job=_job_ref(job)))["result"])

    async def stop(self, job: JobRef) -> Job:
        return Job.from_json((await self._request("stop", job=_job_ref(job)))["result"])

    async def delete(self, job: JobRef) -> Dict[str, Any]:
        """Removes a job that is not active, with its run directory."""
        return (await self._request("delete", job=_job_ref(job)))["result"]

    async def set(self, job: JobRef, key: str, value: float) -> Dict[str, Any]:
        """Changes a live setting (``lr``, ``beta``, ``noise``, ``frameEverySteps``, ...) before the next step."""
        return (await self._request("set", job=_job_ref(job), key=key, value=value))["result"]

    # -- the live model --

    async def decode(self, job: JobRef, z: Optional[Sequence[Any]] = None, *,
                     plane: Optional[Sequence[float]] = None) -> Decoded:
        """Images for latent points ``z`` (one point or a list of points) or a point ``plane=[u, v]`` on the
        latent plane of the latest latent frame."""
        if (z is None) == (plane is None):
            raise ValueError("give exactly one of z (latent points) or plane ([u, v])")
        fields = {"z": _floats(z)} if z is not None else {"plane": _floats(plane)}
        return Decoded.from_json((await self._request("decode", job=_job_ref(job), **fields))["result"])

    async def encode(self, job: JobRef, pixels: Union[Sequence[Any], bytes]) -> Encoded:
        """Codes for one or more 28×28 images: numbers in [0, 1] (nested or flat, row-major) or ``bytes``
        of 0–255 grey values."""
        flat = [b / 255 for b in pixels] if isinstance(pixels, (bytes, bytearray)) else list(_flatten(pixels))
        return Encoded.from_json((await self._request("encode", job=_job_ref(job), pixels=flat))["result"])

    async def interpolate(self, job: JobRef, start: Any, end: Any, *, steps: int = 8,
                          mode: str = "linear") -> Interpolated:
        """Images along a path between two ends: each a test-image index (int), or ``{"z": [...]}``, or
        ``{"plane": [u, v]}``; ``mode`` is ``linear`` or ``spherical``."""
        return Interpolated.from_json((await self._request(
            "interpolate", job=_job_ref(job), steps=steps, mode=mode, **{"from": _end(start), "to": _end(end)}))["result"])

    async def attribute(self, job: JobRef, start: Any, plus: int, minus: int, scale: float = 1.0) -> Attributed:
        """Adds ``scale`` × (mean code of class ``plus`` − mean code of class ``minus``) to a code."""
        return Attributed.from_json((await self._request(
            "attribute", job=_job_ref(job), plus=plus, minus=minus, scale=scale, **{"from": _end(start)}))["result"])

    async def ping(self) -> float:
        """Round-trip time in seconds."""
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await self._request("ping")
        return loop.time() - t0

    # -- internals --

    def _open(self) -> bool:
        return self._ws is not None and self._closed_because is None

    async def _request(self, type_: str, **fields: Any) -> Dict[str, Any]:
        await self.connect()
        if self._closed_because is not None:
            raise ConnectionLost(str(self._closed_because))
        rid = f"py{next(self._ids)}"
        future = asyncio.get_running_loop().create_future()
        self._pending[rid] = future
        self._pending_types[rid] = type_
        text = json.dumps({"type": type_, "id": rid, **fields}, allow_nan=False)
        try:
            await self._ws.send(text if len(text) <= _FRAGMENT
                                else [text[i:i + _FRAGMENT] for i in range(0, len(text), _FRAGMENT)])
            return await asyncio.wait_for(future, self.timeout)
        except websockets.exceptions.ConnectionClosed as e:
            raise ConnectionLost(f"connection closed: {e}") from e
        finally:
            self._pending.pop(rid, None)
            self._pending_types.pop(rid, None)

    async def _subscribe(self, sub: Subscription) -> None:
        sub._wakeup = asyncio.Event()
        fields: Dict[str, Any] = {"job": sub._ref}
        if sub._streams is not None:
            fields["streams"] = sub._streams
        if sub._max_fps is not None:
            fields["maxFps"] = sub._max_fps
        fields["latentFormat"] = sub._latent_format
        await self.connect()
        rid = f"py{next(self._ids)}"
        # Registered before sending: the reader must route the history that follows "subscribed" at once.
        self._pending_subscriptions[rid] = sub
        future = asyncio.get_running_loop().create_future()
        self._pending[rid] = future
        self._pending_types[rid] = "subscribe"
        try:
            await self._ws.send(json.dumps({"type": "subscribe", "id": rid, **fields}))
            reply = await asyncio.wait_for(future, self.timeout)
        except LatentstreamError as e:
            sub._finish(e)
            raise
        except websockets.exceptions.ConnectionClosed as e:
            raise ConnectionLost(f"connection closed: {e}") from e
        finally:
            self._pending.pop(rid, None)
            self._pending_types.pop(rid, None)
            self._pending_subscriptions.pop(rid, None)
        sub.streams = reply.get("streams", [])

    async def _read(self) -> None:
        try:
            async for data in self._ws:
                self._handle(data)
            self._closed_because = ConnectionLost(f"server closed the connection ({self._ws.close_code} "
                                                  f"{self._ws.close_reason})".strip())
        except websockets.exceptions.ConnectionClosed as e:
            self._closed_because = ConnectionLost(f"connection closed: {e}")
        except Exception as e:  # a reader that died silently would leave every request hanging
            self._closed_because = ConnectionLost(f"client reader failed: {e!r}")
            await self._ws.close()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(self._closed_because)
        if self._welcomed is not None and not self._welcomed.done():
            self._welcomed.set_exception(self._closed_because)
        for sub in list(self._subscriptions.values()):
            sub._finish(self._closed_because)

    def _handle(self, data: Union[str, bytes]) -> None:
        try:
            self._dispatch(data)
        except (BadServerMessage, ValueError, AttributeError) as e:
            # One unreadable message (a newer frame version, broken JSON) is skipped, not the connection.
            log.warning("latentstream: skipped a server message: %s", e)

    def _dispatch(self, data: Union[str, bytes]) -> None:
        if isinstance(data, bytes):
            frame = parse_frame(data)
            sub = self._subscriptions.get(frame.job)
            if sub is not None:
                sub._push(frame)
            return
        raw = json.loads(data)
        rid = raw.get("id")
        if rid is not None and str(rid) in self._pending:
            self._reply(str(rid), raw)
            return
        msg = parse_message(raw)
        if isinstance(msg, Welcome):
            self.welcome = msg
            self._jobs = {j.num: j for j in msg.jobs}
            if not self._welcomed.done():
                self._welcomed.set_result(msg)
            return
        if isinstance(msg, Status):
            self._jobs[msg.job.num] = msg.job
        elif isinstance(msg, Deleted):
            self._jobs.pop(msg.job, None)
        # Everything about a job names it by number ("status" by its job object); unasked errors name none.
        num = _num_of(raw.get("job")) if not isinstance(msg, ErrorMessage) else None
        sub = self._subscriptions.get(num) if num is not None else None
        if sub is not None:
            sub._push(msg)

    def _reply(self, rid: str, raw: Dict[str, Any]) -> None:
        future = self._pending[rid]
        if future.done():
            return
        if raw.get("type") == "error":
            future.set_exception(server_error(raw, self._pending_types.get(rid)))
            return
        sub = self._pending_subscriptions.get(rid)
        if sub is not None and raw.get("type") == "subscribed":
            sub.job = Job.from_json(raw.get("job", {}))
            replaced = self._subscriptions.get(sub.job.num)
            if replaced is not None and replaced is not sub:
                replaced._finish()
            self._subscriptions[sub.job.num] = sub
        future.set_result(raw)


def _num_of(job: Any) -> Optional[int]:
    if isinstance(job, bool):
        return None
    if isinstance(job, int):
        return job
    if isinstance(job, dict) and isinstance(job.get("num"), int):
        return job["num"]
    return None


def _flatten(xs: Iterable[Any]) -> Iterable[float]:
    for x in xs:
        if isinstance(x, (list, tuple)) or (hasattr(x, "__iter__") and not isinstance(x, (str, bytes))):
            yield from _flatten(x)
        else:
            yield float(x)


def _floats(points: Sequence[Any]) -> Any:
    """Plain lists of floats (numpy arrays and tuples become JSON-ready)."""
    if hasattr(points, "tolist"):
        return points.tolist()
    return [_floats(p) if isinstance(p, (list, tuple)) or hasattr(p, "tolist") else float(p) for p in points]


def _end(e: Any) -> Dict[str, Any]:
    if isinstance(e, bool):
        raise TypeError("an interpolation end is a test-image index, {'z': [...]} or {'plane': [u, v]}")
    if isinstance(e, int):
        return {"index": e}
    if isinstance(e, dict) and len(e) == 1 and next(iter(e)) in ("index", "z", "plane"):
        return {k: (_floats(v) if k != "index" else v) for k, v in e.items()}
    raise TypeError(f"an interpolation end is a test-image index, {{'z': [...]}} or {{'plane': [u, v]}}, not {e!r}")


__all__ = ["Client", "Subscription", "STREAMS", "ws_url", "PROTOCOL_VERSION", "LatentstreamError"]
