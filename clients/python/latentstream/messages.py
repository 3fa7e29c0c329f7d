"""Typed messages of the latentstream WebSocket protocol, version 1 (``web/api/protocol.md``).

Every server message becomes a frozen dataclass; its JSON stays in ``raw`` so fields a newer server adds
are never lost. A type this module does not know arrives as a plain :class:`Message` rather than an error:
servers add message types without raising the protocol version.
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

# The protocol's constants, in this client the one place that names them (ProtocolConstantsTest holds them
# to web/api/protocol.md's tables).

PROTOCOL_VERSION = 1

#: The binary frame header: version, kind, format, reserved (u8 each), job (u32), step (u64), epoch (u32),
#: width, height (u16 each); big-endian, 24 bytes, then the PNG.
FRAME_HEADER = struct.Struct(">BBBBIQIHH")
#: FRAME_HEADER's fields in order.
FRAME_HEADER_FIELDS = ("version", "kind", "format", "reserved", "job", "step", "epoch", "width", "height")
#: Frame kinds by their code in the header; the same names are the image streams of ``subscribe``.
FRAME_KINDS = {1: "recon", 2: "samples", 3: "latent", 4: "manifold"}
FORMAT_PNG = 1
FORMAT_POINTS = 2
#: Format 2's range (x_min, x_max, y_min, y_max) and point count, after the frame header.
POINTS_HEADER = struct.Struct(">ffffI")
#: Every stream ``subscribe`` takes: the loss, the image streams, then status and diagnostics.
STREAMS = ("loss",) + tuple(FRAME_KINDS.values()) + ("status", "diagnostics")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class LatentstreamError(Exception):
    """Anything this client raises on purpose."""


class ServerError(LatentstreamError):
    """The server answered a request with an ``error`` message.

    ``code`` is one of the protocol's error codes (``unknown_job``, ``unauthorized``, ``bad_request``,
    ``conflict``, ...); ``message`` is the server's explanation.
    """

    def __init__(self, code: str, message: str, request: Optional[str] = None,
                 retry_after_ms: Optional[int] = None, raw: Optional[Dict[str, Any]] = None):
        self.code = code
        self.message = message
        self.request = request
        self.retry_after_ms = retry_after_ms
        self.raw = raw or {}
        where = f" ({request})" if request else ""
        super().__init__(f"{code}{where}: {message}")


class BusyError(ServerError):
    """The server rations this request (code ``busy``); try again after ``retry_after_ms``."""


class ConnectionLost(LatentstreamError):
    """The WebSocket closed while a request or subscription was waiting on it."""


class BadServerMessage(LatentstreamError):
    """The server sent bytes this client cannot read as protocol version 1 (e.g. a short frame header)."""


def server_error(raw: Dict[str, Any], request: Optional[str] = None) -> ServerError:
    """The exception for an ``error`` message: :class:`BusyError` for ``busy``, else :class:`ServerError`."""
    code = str(raw.get("code", "internal"))
    cls = BusyError if code == "busy" else ServerError
    return cls(code, str(raw.get("message", "")), request, raw.get("retryAfterMs"), raw)


def _png(b64: str) -> bytes:
    return base64.b64decode(b64)


# --- jobs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """A job object as the server sends it in ``welcome``, ``status``, ``subscribed`` and replies."""

    id: str
    num: int
    status: str
    name: Optional[str] = None
    model: Optional[str] = None
    dataset: Optional[str] = None
    step: int = 0
    epoch: int = 0
    epochs: Optional[int] = None
    progress: float = 0.0
    test_loss: Optional[float] = None
    iwae: Optional[float] = None
    error: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, j: Dict[str, Any]) -> "Job":
        return cls(id=j.get("id", ""), num=int(j.get("num", 0)), status=j.get("status", ""), name=j.get("name"),
                   model=j.get("model"), dataset=j.get("dataset"), step=j.get("step", 0) or 0,
                   epoch=j.get("epoch", 0) or 0, epochs=j.get("epochs"), progress=j.get("progress", 0.0) or 0.0,
                   test_loss=j.get("testLoss"), iwae=j.get("iwae"), error=j.get("error"), raw=j)

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running", "paused")


# --- server → client, sent unasked --------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """A message of a type this client does not know (yet): its ``type`` and its JSON."""

    type: str
    raw: Dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class Welcome:
    version: int
    authorized: bool
    jobs: List[Job]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    type = "welcome"


@dataclass(frozen=True)
class Status:
    """A job changed (queued, running, paused, completed, ...; progress at each epoch)."""

    job: Job
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    type = "status"


@dataclass(frozen=True)
class History:
    """The job's whole loss history as columns; replaces whatever the client holds for the job."""

    job: int
    job_id: str
    columns: Dict[str, List[Any]]
    test: Dict[str, List[Any]]
    settings: List[Dict[str, Any]]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    type = "history"


@dataclass(frozen=True)
class Loss:
    """New loss points: ``columns["step"]``, ``["epoch"]``, ``["time"]`` and one column per loss term."""

    job: int
    columns: Dict[str, List[Any]]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    type = "loss"

    @property
    def terms(self) -> List[str]:
        return [k for k in self.columns if k not in ("step", "epoch", "time")]


@dataclass(frozen=True)
class Epoch:
    """An epoch ended: its test loss, mean training terms, and its time (``seconds`` in all, ``test_seconds`` for
    the test pass)."""

    job: int
    epoch: int
    step: int
    test: float
    train: Dict[str, float]
    seconds: float
    test_seconds: Optional[float] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    type = "epoch"


@dataclass(frozen=True)
class Setting:
    """A live setting changed (``lr``, ``beta``, ``noise``, ``frameEverySteps``, ...)."""

    job: int
    step: int
    epoch: int
    key: str
    value: float
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    type = "setting"


@dataclass(frozen=True)
class Plane:
    """The data range ``(x_min, x_max, y_min, y_max)`` of the next latent frame's square plot area, and which
    latent point a plane point stands for: ``origin + u * axes[0] + v * axes[1]`` (None for frames from disk)."""

    job: int
    step: int
    range: Tuple[float, float, float, float]
    origin: Optional[Tuple[float, ...]] = None
    axes: Optional[Tuple[Tuple[float, ...], Tuple[float, ...]]] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    type = "plane"


@dataclass(frozen=True)
class Log:
    job: int
    message: str
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    type = "log"


@dataclass(frozen=True)
class Deleted:
    job: int
    job_id: str
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    type = "deleted"


@dataclass(frozen=True)
class Diagnostics:
    """Per latent dimension: KL in nats (``kind == "kl"``) or code variance (``kind == "variance"``)."""

    job: int
    step: int
    epoch: int
    kind: str
    values: List[float]
    active_units: Optional[int] = None
    top_k: Optional[int] = None
    top_k_fraction: Optional[float] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    type = "diagnostics"


@dataclass(frozen=True)
class JobWarning:
    """A ``warning`` message: ``posterior_collapse``, ``inactive_dimensions``, ``test_loss_rising``, ..."""

    job: int
    step: int
    epoch: int
    code: str
    message: str
    setting: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    type = "warning"


@dataclass(frozen=True)
class ErrorMessage:
    """An ``error`` that answers no request of this client (requests get a :class:`ServerError` instead)."""

    id: Optional[str]
    code: str
    message: str
    retry_after_ms: Optional[int] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    type = "error"


@dataclass(frozen=True)
class Frame:
    """An image: the binary message's header fields and its PNG bytes.

    Shows itself in Jupyter (``_repr_png_``); ``to_pil()`` opens it with Pillow when that is installed.
    """

    job: int
    kind: str
    step: int
    epoch: int
    width: int
    height: int
    png: bytes = field(repr=False)
    version: int = PROTOCOL_VERSION
    format: int = FORMAT_PNG
    type = "frame"

    def _repr_png_(self) -> bytes:
        return self.png

    def to_pil(self):
        import io

        from PIL import Image  # optional: only for callers who want a PIL image

        return Image.open(io.BytesIO(self.png))


@dataclass(frozen=True)
class LatentPoints(Frame):
    """A latent frame sent as points (binary format 2): ``x``, ``y`` on the plane and each point's class
    ``labels``; ``range`` is the plot's ``(x_min, x_max, y_min, y_max)``. ``png`` is empty."""

    x: Tuple[float, ...] = field(default=(), repr=False)
    y: Tuple[float, ...] = field(default=(), repr=False)
    labels: Tuple[int, ...] = field(default=(), repr=False)
    range: Tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)

    def _repr_png_(self) -> Optional[bytes]:
        return None


def _points(data: bytes, **header: Any) -> LatentPoints:
    at = FRAME_HEADER.size
    if len(data) < at + POINTS_HEADER.size:
        raise BadServerMessage("points frame shorter than its range and count")
    x0, x1, y0, y1, count = POINTS_HEADER.unpack_from(data, at)
    at += POINTS_HEADER.size
    if len(data) != at + 5 * count:
        raise BadServerMessage(f"points frame of {len(data)} bytes does not hold {count} points")
    q = struct.unpack_from(f">{2 * count}H", data, at)
    return LatentPoints(png=b"", x=tuple(x0 + (x1 - x0) * v / 65535 for v in q[0::2]),
                        y=tuple(y0 + (y1 - y0) * v / 65535 for v in q[1::2]),
                        labels=tuple(data[at + 4 * count:]), range=(x0, x1, y0, y1), **header)


def parse_frame(data: bytes) -> Frame:
    """Reads a binary frame message (``web/api/protocol.md``, "Images"): a :class:`Frame` (PNG) or, for a
    latent frame subscribed with ``latent_format="points"``, :class:`LatentPoints`."""
    if len(data) < FRAME_HEADER.size:
        raise BadServerMessage(f"binary message of {len(data)} bytes is shorter than the "
                               f"{FRAME_HEADER.size}-byte frame header")
    version, kind, fmt, _reserved, job, step, epoch, width, height = FRAME_HEADER.unpack_from(data)
    if version != PROTOCOL_VERSION:
        raise BadServerMessage(f"frame header says protocol version {version}; this client speaks "
                               f"{PROTOCOL_VERSION}")
    header = dict(job=job, kind=FRAME_KINDS.get(kind, f"kind-{kind}"), step=step, epoch=epoch, width=width,
                  height=height, version=version, format=fmt)
    if fmt == FORMAT_POINTS:
        return _points(data, **header)
    return Frame(png=bytes(data[FRAME_HEADER.size:]), **header)


def _job_num(j: Any) -> int:
    return int(j.get("num", 0)) if isinstance(j, dict) else int(j)


_PARSERS = {
    "welcome": lambda m: Welcome(m.get("version", 0), bool(m.get("authorized")),
                                 [Job.from_json(j) for j in m.get("jobs", [])], m),
    "status": lambda m: Status(Job.from_json(m["job"]), m),
    "history": lambda m: History(_job_num(m["job"]), m.get("jobId", ""), m.get("columns", {}), m.get("test", {}),
                                 m.get("settings", []), m),
    "loss": lambda m: Loss(_job_num(m["job"]), m.get("columns", {}), m),
    "epoch": lambda m: Epoch(_job_num(m["job"]), m["epoch"], m["step"], m.get("test"), m.get("train", {}),
                             m.get("seconds"), m.get("testSeconds"), m),
    "setting": lambda m: Setting(_job_num(m["job"]), m["step"], m.get("epoch", 0), m["key"], m["value"], m),
    "plane": lambda m: Plane(_job_num(m["job"]), m["step"], tuple(m["range"]),
                             tuple(m["origin"]) if "origin" in m else None,
                             (tuple(m["axes"][0]), tuple(m["axes"][1])) if "axes" in m else None, raw=m),
    "log": lambda m: Log(_job_num(m["job"]), m.get("message", ""), m),
    "deleted": lambda m: Deleted(_job_num(m["job"]), m.get("jobId", ""), m),
    "diagnostics": lambda m: Diagnostics(_job_num(m["job"]), m["step"], m.get("epoch", 0), m["kind"],
                                         m.get("values", []), m.get("activeUnits"), m.get("topK"),
                                         m.get("topKFraction"), m),
    "warning": lambda m: JobWarning(_job_num(m["job"]), m.get("step", 0), m.get("epoch", 0), m["code"],
                                    m.get("message", ""), m.get("setting"), m),
    "error": lambda m: ErrorMessage(None if m.get("id") is None else str(m["id"]), str(m.get("code", "internal")),
                                    str(m.get("message", "")), m.get("retryAfterMs"), m),
}


def parse_message(m: Dict[str, Any]):
    """A server JSON message as its dataclass; unknown or malformed ones as a plain :class:`Message`."""
    parser = _PARSERS.get(m.get("type"))
    if parser is not None:
        try:
            return parser(m)
        except (KeyError, TypeError, ValueError):
            pass  # a shape this client does not expect: hand it over untyped rather than fail the stream
    return Message(str(m.get("type")), m)


# --- replies to interactive requests ------------------------------------------------------------


@dataclass(frozen=True)
class Decoded:
    """``images``: PNG bytes per latent point; ``z``: the points decoded."""

    images: List[bytes] = field(repr=False)
    z: List[List[float]]
    width: int
    height: int
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, r: Dict[str, Any]) -> "Decoded":
        return cls([_png(i) for i in r.get("images", [])], r.get("z", []), r.get("width", 0), r.get("height", 0), r)


@dataclass(frozen=True)
class Encoded:
    """Posterior ``mean`` and ``log_var`` per image (``log_var`` empty for deterministic models), PNG
    ``reconstructions``, and the mean's position on the latent plane with its standard deviation."""

    mean: List[List[float]]
    log_var: Optional[List[List[float]]]
    reconstructions: List[bytes] = field(repr=False)
    plane: List[List[float]]
    plane_std: Optional[List[List[float]]]
    variational: bool
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, r: Dict[str, Any]) -> "Encoded":
        return cls(r.get("mean", []), r.get("logVar"), [_png(i) for i in r.get("reconstructions", [])],
                   r.get("plane", []), r.get("planeStd"), bool(r.get("variational")), r)


@dataclass(frozen=True)
class Interpolated:
    images: List[bytes] = field(repr=False)
    mode: str
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, r: Dict[str, Any]) -> "Interpolated":
        return cls([_png(i) for i in r.get("images", [])], r.get("mode", ""), r)


@dataclass(frozen=True)
class Attributed:
    """``images``: the code before and after the attribute vector was added."""

    images: List[bytes] = field(repr=False)
    label: str
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, r: Dict[str, Any]) -> "Attributed":
        return cls([_png(i) for i in r.get("images", [])], r.get("label", ""), r)
