"""Python client for latentstream: watch autoencoders train, live, and query their models.

    from latentstream import SyncClient
    with SyncClient("http://127.0.0.1:8080/", token="...") as c:
        job = c.jobs()[-1]
        for msg in c.subscribe(job, ["loss", "recon"]):
            print(msg)

``Client`` is the asyncio version with the same calls (``await c.jobs()``, ``async for msg in
c.subscribe(...)``). The protocol is ``web/api/protocol.md`` (and ``/api/asyncapi.yaml``) in the server.
"""

from .client import STREAMS, Client, Subscription, ws_url
from .messages import (FRAME_HEADER, FRAME_KINDS, PNG_SIGNATURE, PROTOCOL_VERSION, Attributed, BadServerMessage,
                       BusyError, ConnectionLost, Decoded, Deleted, Diagnostics, Encoded, Epoch, ErrorMessage,
                       Frame, History, Interpolated, Job, JobWarning, LatentPoints, LatentstreamError, Log, Loss, Message, Plane,
                       ServerError, Setting, Status, Welcome, parse_frame, parse_message)
from .sync import SyncClient, SyncSubscription

__version__ = "0.1.0"

__all__ = [
    "Client", "SyncClient", "Subscription", "SyncSubscription", "STREAMS", "ws_url",
    "LatentstreamError", "ServerError", "BusyError", "ConnectionLost", "BadServerMessage",
    "Job", "Message", "Welcome", "Status", "History", "Loss", "Epoch", "Setting", "Plane", "Log", "Deleted",
    "Diagnostics", "JobWarning", "ErrorMessage", "Frame", "LatentPoints", "Decoded", "Encoded", "Interpolated", "Attributed",
    "parse_frame", "parse_message", "FRAME_HEADER", "FRAME_KINDS", "PNG_SIGNATURE", "PROTOCOL_VERSION",
]
