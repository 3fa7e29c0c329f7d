"""Client behaviour the real server cannot be made to show on demand, against a scripted WebSocket server:
the session plan's additions (maxFps, diagnostics, warning, busy), unknown message types, conflation for
a slow consumer, and a connection that drops."""

import asyncio
import json
import struct

import support  # noqa: F401  (puts the package from the checkout on the path first)
from support import AsyncTestCase

import websockets

import latentstream as ls

JOB = {"id": "vae-1", "num": 1, "status": "running", "model": "vae", "step": 10, "epoch": 0}


def frame(kind: int, step: int, job: int = 1) -> bytes:
    return struct.pack(">BBBBIQIHH", 1, kind, 1, 0, job, step, 0, 28, 28) + ls.PNG_SIGNATURE + b"\0" * 8


class FakeServer:
    """Sends ``welcome``, then hands each request to ``respond(request, ws)``; records the requests."""

    def __init__(self, respond):
        self.respond = respond
        self.requests = []

    async def _handle(self, ws, *_path):
        await ws.send(json.dumps({"type": "welcome", "version": 1, "authorized": True, "jobs": [JOB]}))
        try:
            async for text in ws:
                request = json.loads(text)
                self.requests.append(request)
                await self.respond(request, ws)
        except websockets.exceptions.ConnectionClosed:
            pass  # a script that closes with an error code ends here

    async def __aenter__(self):
        self._server = await websockets.serve(self._handle, "127.0.0.1", 0)
        port = next(iter(self._server.sockets)).getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/"
        return self

    async def __aexit__(self, *exc):
        self._server.close()
        await self._server.wait_closed()


async def reply(ws, request, **fields):
    await ws.send(json.dumps({"id": request["id"], **fields}))


class FakeServerTest(AsyncTestCase):

    async def test_max_fps_goes_out_on_subscribe_and_the_plan_messages_come_back_typed(self):
        async def respond(request, ws):
            if request["type"] == "subscribe":
                await reply(ws, request, type="subscribed", job=JOB, streams=request["streams"])
                await ws.send(json.dumps({"type": "diagnostics", "job": 1, "step": 1200, "epoch": 2, "kind": "kl",
                                          "values": [0.8, 0.01], "activeUnits": 1, "topK": 1, "topKFraction": 0.98}))
                await ws.send(json.dumps({"type": "warning", "job": 1, "step": 1200, "epoch": 2,
                                          "code": "posterior_collapse", "message": "only 1 of 2 active",
                                          "setting": "beta"}))
                await ws.send(json.dumps({"type": "hologram", "job": 1, "depth": 3}))
                await ws.send(frame(3, 1200))

        async with FakeServer(respond) as server, ls.Client(server.url) as c:
            sub = await c.subscribe(1, ["status", "diagnostics", "latent"], max_fps=1.5)
            got = [await sub.next(5) for _ in range(4)]
        self.assertEqual({"type": "subscribe", "id": server.requests[0]["id"], "job": 1,
                          "streams": ["status", "diagnostics", "latent"], "maxFps": 1.5, "latentFormat": "png"},
                         server.requests[0], "a notebook's latent frames come as PNGs unless it asks for points")
        self.assertEqual([ls.Diagnostics, ls.JobWarning, ls.Message, ls.Frame], [type(m) for m in got])
        self.assertEqual(1, got[0].active_units)
        self.assertEqual("posterior_collapse", got[1].code)
        self.assertEqual(("hologram", 3), (got[2].type, got[2].raw["depth"]))
        self.assertEqual(("latent", 1200), (got[3].kind, got[3].step))

    async def test_a_busy_reply_raises_busy_error_with_its_retry_delay(self):
        async def respond(request, ws):
            await reply(ws, request, type="error", code="busy", message="decode requests are rationed",
                        retryAfterMs=300)

        async with FakeServer(respond) as server, ls.Client(server.url) as c:
            with self.assertRaises(ls.BusyError) as caught:
                await c.decode(1, [0.0, 0.0])
        self.assertEqual(("busy", 300, "decode"), (caught.exception.code, caught.exception.retry_after_ms,
                                                    caught.exception.request))

    async def test_a_slow_consumer_gets_the_newest_frame_of_each_kind_and_every_loss_batch(self):
        def loss(step):
            return json.dumps({"type": "loss", "job": 1, "columns": {"step": [step], "epoch": [0], "time": [None],
                                                                      "loss": [1.0 / step]}})

        async def respond(request, ws):
            if request["type"] == "subscribe":
                await reply(ws, request, type="subscribed", job=JOB, streams=["loss", "recon", "samples"])
                for m in (loss(1), frame(1, 1), loss(2), frame(1, 2), frame(1, 3), frame(2, 3), loss(3)):
                    await ws.send(m)
            elif request["type"] == "ping":
                await reply(ws, request, type="pong")

        async with FakeServer(respond) as server, ls.Client(server.url) as c:
            sub = await c.subscribe(1)
            await c.ping()  # its reply comes after every stream message: all are buffered, none read yet
            got = [await sub.next(5) for _ in range(5)]
        described = [("loss", m.columns["step"][0]) if isinstance(m, ls.Loss) else (m.kind, m.step) for m in got]
        self.assertEqual([("loss", 1), ("recon", 3), ("loss", 2), ("samples", 3), ("loss", 3)], described)

    async def test_a_dropped_connection_fails_the_waiting_request_and_the_subscription(self):
        async def respond(request, ws):
            if request["type"] == "subscribe":
                await reply(ws, request, type="subscribed", job=JOB, streams=["loss"])
            else:
                await ws.close(1011, "gone")

        async with FakeServer(respond) as server, ls.Client(server.url) as c:
            sub = await c.subscribe(1, ["loss"])
            with self.assertRaises(ls.ConnectionLost):
                await c.decode(1, [0.0, 0.0])
            with self.assertRaisesRegex(ls.ConnectionLost, "1011"):
                await sub.next(5)
            with self.assertRaises(ls.ConnectionLost):
                await c.ping()

    async def test_messages_about_other_jobs_do_not_reach_a_subscription(self):
        async def respond(request, ws):
            if request["type"] == "subscribe":
                await reply(ws, request, type="subscribed", job=JOB, streams=["loss"])
                await ws.send(json.dumps({"type": "log", "job": 2, "message": "other"}))
                await ws.send(frame(1, 5, job=2))
                await ws.send(json.dumps({"type": "status", "job": dict(JOB, num=2, id="vae-2")}))
                await ws.send(json.dumps({"type": "log", "job": 1, "message": "mine"}))

        async with FakeServer(respond) as server, ls.Client(server.url) as c:
            sub = await c.subscribe(1, ["loss"])
            m = await sub.next(5)
            self.assertEqual(("log", "mine"), (m.type, m.message))
            self.assertEqual([1, 2], [j.num for j in await c.jobs()], "the job table still learns of job 2")

    async def test_a_message_over_64_kib_goes_out_as_fragments_of_at_most_60000_characters(self):
        async def respond(request, ws):
            await reply(ws, request, type="error", code="too_large", message=f"{len(request['pixels'])} values")

        async with FakeServer(respond) as server, ls.Client(server.url) as c:
            sent = []
            send = c._ws.send

            async def recording(message):
                sent.append(message)
                await send(message)

            c._ws.send = recording
            with self.assertRaisesRegex(ls.ServerError, "too_large \\(encode\\): 15680 values"):
                await c.encode(1, [0.5] * (28 * 28 * 20))
        pieces = sent[0]
        self.assertIsInstance(pieces, list)
        self.assertGreater(len(pieces), 1)
        self.assertTrue(all(len(p) <= 60_000 for p in pieces), [len(p) for p in pieces])
        self.assertEqual(15680, len(json.loads("".join(pieces))["pixels"]))

    async def test_an_unreadable_server_message_is_skipped_and_the_connection_kept(self):
        async def respond(request, ws):
            if request["type"] == "subscribe":
                await reply(ws, request, type="subscribed", job=JOB, streams=["loss", "recon"])
                await ws.send(b"\x01\x01")  # a frame shorter than its header
                await ws.send("{not json")
                await ws.send(frame(1, 7))
            elif request["type"] == "ping":
                await reply(ws, request, type="pong")

        with self.assertLogs("latentstream", "WARNING") as logged:
            async with FakeServer(respond) as server, ls.Client(server.url) as c:
                sub = await c.subscribe(1)
                m = await sub.next(5)
                self.assertEqual(("recon", 7), (m.kind, m.step))
                self.assertGreater(await c.ping(), 0)
        self.assertIn("shorter than the 24-byte frame header", logged.output[0])
        self.assertEqual(2, len(logged.output))
