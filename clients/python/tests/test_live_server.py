"""The client against a real ``latentstream serve``: streams, the live model, control, and clear errors.

One server and one long training job (a tiny VAE on synthetic data, one CPU thread) serve every test; the
module stops both at the end.
"""

import csv
import os
import subprocess
import sys
import time
import urllib.request

import support
from support import TOKEN, AsyncTestCase, TestCase

import latentstream as ls

server = None
job = None  # the shared training job
TIMEOUT = 60


def setUpModule():
    global server, job
    server = support.Server()
    with ls.SyncClient(server.url, TOKEN) as c:
        job = c.start(spec=server.spec())
        # Ready once it has stepped and drawn a latent frame: the model is live and has a latent plane.
        with c.subscribe(job, ["loss", "latent"]) as sub:
            seen = set()
            while not {"loss", "latent"} <= seen:
                m = sub.next(TIMEOUT)
                seen.add("loss" if isinstance(m, ls.Loss) else getattr(m, "kind", None))


def tearDownModule():
    if server is not None:
        server.close()


async def collect(sub, done, timeout=TIMEOUT):
    """Messages from ``sub`` until ``done(messages)`` holds, each waited for at most ``timeout`` s."""
    got = []
    while not done(got):
        got.append(await sub.next(timeout))
    return got


def kinds(messages):
    return {m.kind for m in messages if isinstance(m, ls.Frame)}


class StreamTest(AsyncTestCase):

    async def test_subscribe_delivers_history_then_loss_and_every_frame_kind_as_png(self):
        async with ls.Client(server.url) as c:
            sub = await c.subscribe(job.num)
            self.assertEqual(job.id, sub.job.id)
            self.assertEqual(["loss", "recon", "samples", "latent", "manifold", "status", "diagnostics"], sub.streams)
            got = await collect(sub, lambda ms: kinds(ms) == {"recon", "samples", "latent", "manifold"}
                                and any(isinstance(m, ls.Loss) for m in ms))
            # Other streams' latest (a diagnostics message, frames) may come first; live loss never does.
            history = next(m for m in got if isinstance(m, ls.History))
            self.assertFalse(any(isinstance(m, ls.Loss) for m in got[:got.index(history)]),
                             "live loss before the history")
            self.assertEqual((job.num, job.id), (history.job, history.job_id))
            self.assertEqual(["step", "epoch", "time", "recon", "kl", "loss"], list(history.columns))
            loss = next(m for m in got if isinstance(m, ls.Loss))
            self.assertEqual(["recon", "kl", "loss"], loss.terms)
            self.assertGreater(loss.columns["step"][0], 0)
            self.assertTrue(all(len(col) == len(loss.columns["step"]) for col in loss.columns.values()))
            for frame in (m for m in got if isinstance(m, ls.Frame)):
                self.assertEqual(job.num, frame.job)
                self.assertTrue(frame.png.startswith(ls.PNG_SIGNATURE), frame)
                self.assertGreater(frame.width, 0)
                self.assertGreater(frame.height, 0)
                self.assertGreaterEqual(frame.epoch, 0)
            self.assertTrue(any(isinstance(m, ls.Plane) and len(m.range) == 4 for m in got))

    async def test_the_latent_scatter_can_come_as_points_inside_the_plane_range(self):
        async with ls.Client(server.url) as c:
            sub = await c.subscribe(job, ["latent"], latent_format="points")
            got = await collect(sub, lambda ms: any(isinstance(m, ls.LatentPoints) for m in ms))
            points = next(m for m in got if isinstance(m, ls.LatentPoints))
            self.assertEqual("latent", points.kind)
            self.assertGreater(len(points.x), 0)
            self.assertEqual(len(points.x), len(points.y))
            self.assertEqual(len(points.x), len(points.labels))
            x0, x1, y0, y1 = points.range
            self.assertTrue(all(x0 <= x <= x1 for x in points.x) and all(y0 <= y <= y1 for y in points.y))
            with self.assertRaisesRegex(ValueError, "latent_format"):
                c.subscribe(job, ["latent"], latent_format="svg")

    async def test_chosen_streams_bring_only_those_images(self):
        async with ls.Client(server.url) as c:
            sub = await c.subscribe(job, ["loss", "recon"])
            got = await collect(sub, lambda ms: sum(isinstance(m, ls.Frame) for m in ms) >= 3)
            self.assertEqual({"recon"}, kinds(got))
            await sub.close()
            with self.assertRaises(StopAsyncIteration):
                await sub.next(TIMEOUT)

    async def test_subscribing_to_an_unknown_job_raises_unknown_job(self):
        async with ls.Client(server.url) as c:
            with self.assertRaises(ls.ServerError) as caught:
                await c.subscribe(9999)
            self.assertEqual("unknown_job", caught.exception.code)
            self.assertIn("9999", caught.exception.message)

    async def test_jobs_lists_the_running_job(self):
        async with ls.Client(server.url) as c:
            listed = {j.num: j for j in await c.jobs()}
            self.assertIn(job.num, listed)
            self.assertEqual("running", listed[job.num].status)
            self.assertEqual("vae", listed[job.num].model)
            self.assertFalse(c.authorized)


class ModelTest(AsyncTestCase):

    async def test_decode_returns_a_png_per_latent_point(self):
        async with ls.Client(server.url) as c:
            d = await c.decode(job, [[0.0, 0.0], [1.0, -1.0]])
            self.assertEqual(2, len(d.images))
            self.assertTrue(all(png.startswith(ls.PNG_SIGNATURE) for png in d.images))
            self.assertEqual((28, 28), (d.width, d.height))

    async def test_decode_of_a_plane_point_returns_a_png(self):
        async with ls.Client(server.url) as c:
            d = await c.decode(job, plane=[0.5, -0.25])
            self.assertEqual(1, len(d.images))
            self.assertTrue(d.images[0].startswith(ls.PNG_SIGNATURE))
            self.assertEqual(2, len(d.z[0]))

    async def test_encode_returns_the_code_and_a_png_reconstruction(self):
        image = bytes(255 if 10 <= i % 28 <= 14 else 0 for i in range(28 * 28))  # a vertical bar
        async with ls.Client(server.url) as c:
            e = await c.encode(job, image)
            self.assertTrue(e.variational)
            self.assertEqual(2, len(e.mean[0]))
            self.assertEqual(2, len(e.log_var[0]))
            self.assertTrue(e.reconstructions[0].startswith(ls.PNG_SIGNATURE))

    async def test_interpolate_returns_the_steps_asked_for(self):
        async with ls.Client(server.url) as c:
            r = await c.interpolate(job, 0, 7, steps=5, mode="spherical")
            self.assertEqual(5, len(r.images))
            self.assertEqual("spherical", r.mode)
            self.assertTrue(all(png.startswith(ls.PNG_SIGNATURE) for png in r.images))

    async def test_a_request_over_64_kib_goes_out_in_fragments_and_is_refused_as_too_large(self):
        async with ls.Client(server.url) as c:
            # Sent in fragments of at most 60 000 characters, as protocol.md asks of frames; the server reads
            # the whole message and answers, as for any message over maxMessageBytes.
            with self.assertRaises(ls.ServerError) as caught:
                await c.encode(job, [0.0] * (28 * 28 * 20))
            self.assertEqual("too_large", caught.exception.code)
            self.assertGreater(await c.ping(), 0, "the socket stays open")

    async def test_decoding_points_of_the_wrong_size_raises_bad_request(self):
        async with ls.Client(server.url) as c:
            with self.assertRaises(ls.ServerError) as caught:
                await c.decode(job, [[0.0, 0.0, 0.0]])
            self.assertEqual("bad_request", caught.exception.code)
            self.assertEqual("decode", caught.exception.request)


class ControlTest(AsyncTestCase):

    async def test_pause_with_a_wrong_token_raises_unauthorized(self):
        async with ls.Client(server.url, token="not-the-token") as c:
            self.assertFalse(c.authorized)
            with self.assertRaises(ls.ServerError) as caught:
                await c.pause(job)
            self.assertEqual("unauthorized", caught.exception.code)
            self.assertIn("unauthorized (pause)", str(caught.exception))

    async def test_pause_without_a_token_raises_unauthorized(self):
        async with ls.Client(server.url) as c:
            with self.assertRaises(ls.ServerError) as caught:
                await c.pause(job)
            self.assertEqual("unauthorized", caught.exception.code)

    async def test_control_of_an_unknown_job_raises_unknown_job(self):
        async with ls.Client(server.url, TOKEN) as c:
            self.assertTrue(c.authorized)
            for call in (c.pause, c.resume, c.stop):
                with self.assertRaises(ls.ServerError) as caught:
                    await call("no-such-job")
                self.assertEqual("unknown_job", caught.exception.code)

    async def test_pause_and_resume_change_the_status_subscribers_see(self):
        async with ls.Client(server.url, TOKEN) as c:
            sub = await c.subscribe(job, ["status"])
            self.assertEqual("paused", (await c.pause(job)).status)
            await collect(sub, lambda ms: any(isinstance(m, ls.Status) and m.job.status == "paused" for m in ms))
            self.assertEqual("running", (await c.resume(job)).status)
            await collect(sub, lambda ms: any(isinstance(m, ls.Status) and m.job.status == "running" for m in ms))

    async def test_set_changes_a_live_setting_and_subscribers_see_it(self):
        async with ls.Client(server.url, TOKEN) as c:
            sub = await c.subscribe(job, ["loss"])
            result = await c.set(job, "lr", 0.0007)
            self.assertEqual(("lr", 0.0007), (result["key"], result["value"]))
            got = await collect(sub, lambda ms: any(isinstance(m, ls.Setting) and m.value == 0.0007 for m in ms))
            setting = got[-1]
            self.assertEqual(("lr", job.num), (setting.key, setting.job))

    async def test_a_bad_setting_raises_bad_request(self):
        async with ls.Client(server.url, TOKEN) as c:
            with self.assertRaises(ls.ServerError) as caught:
                await c.set(job, "lr", -1)
            self.assertEqual("bad_request", caught.exception.code)  # out of range: protocol.md's code table

    async def test_a_started_job_can_be_stopped_and_deleted(self):
        async with ls.Client(server.url, TOKEN) as c:
            started = await c.start(spec=server.spec(epochs=50))
            self.assertIn(started.status, ("queued", "running"))
            sub = await c.subscribe(started, ["status"])
            await collect(sub, lambda ms: any(isinstance(m, ls.Status) and m.job.status == "running" for m in ms))
            await c.stop(started)
            await collect(sub, lambda ms: any(isinstance(m, ls.Status) and m.job.status == "stopped" for m in ms))
            self.assertTrue((await c.delete(started))["deleted"])
            await collect(sub, lambda ms: any(isinstance(m, ls.Deleted) for m in ms))
            with self.assertRaises(ls.ServerError) as caught:
                await c.job(started.id)
            self.assertEqual("unknown_job", caught.exception.code)


class SyncClientTest(TestCase):

    def test_the_blocking_client_streams_and_decodes(self):
        with ls.SyncClient(server.url) as c:
            self.assertIn(job.num, [j.num for j in c.jobs()])
            with c.subscribe(job.num, ["loss", "samples"]) as sub:
                self.assertIsInstance(sub.next(TIMEOUT), ls.History)
                seen = set()
                for m in sub:
                    seen.add(type(m))
                    if {ls.Loss, ls.Frame} <= seen:
                        break
            d = c.decode(job, [0.0, 0.0])
            self.assertTrue(d.images[0].startswith(ls.PNG_SIGNATURE))
            self.assertGreater(c.ping(), 0)

    def test_a_server_error_in_the_blocking_client_is_the_same_exception(self):
        with ls.SyncClient(server.url) as c:
            with self.assertRaises(ls.ServerError) as caught:
                c.pause(job)
            self.assertEqual("unauthorized", caught.exception.code)

    def test_connecting_to_a_closed_port_raises_connection_lost(self):
        with self.assertRaises(ls.ConnectionLost):
            ls.SyncClient("http://127.0.0.1:9/", timeout=5)


class RunsAndMetricsTest(TestCase):

    def test_runs_gives_each_jobs_spec_status_and_results(self):
        with ls.SyncClient(server.url) as c:
            runs = {r["num"]: r for r in c.runs()}
        r = runs[job.num]
        self.assertEqual(job.id, r["id"])
        self.assertIn(r["status"], ("running", "paused"))
        self.assertEqual("vae", r["spec"]["model"])
        self.assertEqual(2, r["spec"]["latent"])
        self.assertGreater(r["results"]["step"], 0)
        self.assertIsNone(r["sweep"])

    def test_metrics_has_the_columns_of_metrics_csv(self):
        with ls.SyncClient(server.url) as c:
            cols = c.metrics(job)
        if not isinstance(cols, dict):  # a pandas DataFrame
            cols = {k: [None if v != v else v for v in cols[k].tolist()] for k in cols.columns}
        # Read after: the running job may have written more rows since; the first ones are the same.
        with open(server.dir / "runs" / job.id / "metrics.csv", newline="") as f:
            rows = list(csv.reader(f))
        header, body = rows[0], rows[1:]
        self.assertEqual(header, list(cols))
        n = len(cols["step"])
        self.assertGreater(n, 0)
        self.assertGreaterEqual(len(body), n)
        for i, row in enumerate(body[:n]):
            for name, cell in zip(header, row):
                got = cols[name][i]
                if cell == "":
                    self.assertIsNone(got, (name, i))
                elif name == "setting":
                    self.assertEqual(cell, got)
                else:
                    self.assertAlmostEqual(float(cell), float(got), places=6, msg=(name, i))

    def test_metrics_of_an_unknown_job_raises_unknown_job(self):
        with ls.SyncClient(server.url) as c:
            with self.assertRaises(ls.ServerError) as caught:
                c.metrics("no-such-job")
        self.assertEqual("unknown_job", caught.exception.code)


class DocumentTest(TestCase):

    def test_the_server_serves_the_asyncapi_document_as_yaml(self):
        with urllib.request.urlopen(server.url.rstrip("/") + "/api/asyncapi.yaml", timeout=TIMEOUT) as r:
            self.assertEqual(200, r.status)
            self.assertTrue(r.headers["Content-Type"].startswith("application/yaml"), r.headers["Content-Type"])
            body = r.read()
        self.assertEqual((support.ROOT / "web" / "api" / "asyncapi.yaml").read_bytes(), body)
        self.assertIn(b"\nasyncapi: 3.0.0\n", body)


class ExampleTest(TestCase):

    def test_the_live_loss_example_watches_the_job(self):
        env = dict(os.environ, PYTHONPATH=str(support.ROOT / "clients" / "python"), MPLBACKEND="Agg")
        run = subprocess.run([sys.executable, str(support.ROOT / "clients" / "python" / "examples" / "live_loss.py"),
                              server.url, "--job", str(job.num), "--seconds", "2"],
                             capture_output=True, text=True, timeout=TIMEOUT, env=env)
        self.assertEqual(0, run.returncode, run.stderr)
        self.assertIn(f"watching job {job.num} ({job.id}, vae, running)", run.stdout)
        # The history comes first and the job has stepped (setUpModule waited for loss); later lines depend
        # on how fast it trains in the two seconds.
        self.assertRegex(run.stdout, r"history: [1-9]\d* steps, loss \d+\.\d{3} at step \d+")

    def run_example(self, job_ref, seconds):
        env = dict(os.environ, PYTHONPATH=str(support.ROOT / "clients" / "python"), MPLBACKEND="Agg")
        return subprocess.run([sys.executable, str(support.ROOT / "clients" / "python" / "examples" / "live_loss.py"),
                               server.url, "--job", str(job_ref.num), "--seconds", str(seconds)],
                              capture_output=True, text=True, timeout=TIMEOUT, env=env)

    def test_the_live_loss_example_ends_on_a_job_that_is_not_training(self):
        with ls.SyncClient(server.url, TOKEN) as c:
            done = c.start(spec=server.spec(epochs=1))
            with c.subscribe(done, ["status"]) as sub:
                while not (isinstance(m := sub.next(TIMEOUT), ls.Status) and m.job.status == "completed"):
                    pass
        # Asked to watch for ten minutes, it stops at once: a completed job sends nothing after its history.
        run = self.run_example(done, 600)
        self.assertEqual(0, run.returncode, run.stderr)
        self.assertIn("job completed: no new points will come", run.stdout)

    def test_the_live_loss_example_keeps_to_its_seconds_when_nothing_comes(self):
        with ls.SyncClient(server.url, TOKEN) as c:
            quiet = c.start(spec=server.spec())
            try:
                with c.subscribe(quiet, ["status"]) as sub:
                    while not (isinstance(m := sub.next(TIMEOUT), ls.Status) and m.job.status == "running"):
                        pass
                c.pause(quiet)
                started = time.monotonic()
                run = self.run_example(quiet, 3)
                self.assertEqual(0, run.returncode, run.stderr)
                self.assertIn("stopped watching after 3 s", run.stdout)
                self.assertLess(time.monotonic() - started, 30)
            finally:
                c.stop(quiet)

