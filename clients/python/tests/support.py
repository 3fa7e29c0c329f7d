"""Test support: a real ``latentstream serve`` process on a free port, a small synthetic dataset for it,
and the closing ``N passed, N failed`` line the CI counts.

The server is the packaged jar (``./mvnw -B package`` or ``verify`` builds it), run by a JDK 25 as the
launcher runs it, in its own temporary runs directory, so the tests touch nothing of the checkout.
"""

from __future__ import annotations

import asyncio
import atexit
import gzip
import json
import math
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "clients" / "python"))  # the package from the checkout, not an installed copy

TOKEN = "python-client-test-token-0123"
SIDE = 28


# --- "N passed, N failed" ---------------------------------------------------------------------------

_result = None


def _summary() -> None:
    if _result is None:
        return
    failed = len(_result.failures) + len(_result.errors) + len(_result.unexpectedSuccesses)
    passed = _result.testsRun - failed - len(_result.skipped)
    # After unittest's own summary: the runner has finished when interpreter exit runs this.
    print(f"{passed} passed, {failed} failed", file=sys.stderr, flush=True)


atexit.register(_summary)


class _Counted:
    """Remembers the shared result of the run so the summary line can count it."""

    def run(self, result=None):
        global _result
        if result is not None:
            _result = result
        return super().run(result)


class TestCase(_Counted, unittest.TestCase):
    """Every synchronous test case of this suite."""


class AsyncTestCase(_Counted, unittest.IsolatedAsyncioTestCase):
    """Every asyncio test case of this suite."""

    async def asyncSetUp(self):
        # The test loop runs in debug mode, which reports every callback over 0.1 s (a JVM under load
        # answering a handshake) as noise in the output.
        asyncio.get_running_loop().slow_callback_duration = 2.0


# --- a synthetic dataset ------------------------------------------------------------------------


def write_synthetic(directory: Path, train: int = 512, test: int = 128, seed: int = 11) -> Path:
    """Ten classes of strokes (bars, crosses, rings, ...) as the four gzipped IDX files a dataset needs."""
    rnd = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    for prefix, count in (("train", train), ("t10k", test)):
        pixels = bytearray(count * SIDE * SIDE)
        labels = bytearray(count)
        for i in range(count):
            labels[i] = i % 10
            _draw(i % 10, rnd, pixels, i * SIDE * SIDE)
        with gzip.open(directory / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(struct.pack(">IIII", 0x803, count, SIDE, SIDE) + bytes(pixels))
        with gzip.open(directory / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(struct.pack(">II", 0x801, count) + bytes(labels))
    return directory


def _draw(label: int, rnd: random.Random, px: bytearray, base: int) -> None:
    dx, dy = rnd.randint(-3, 3), rnd.randint(-3, 3)
    thick, ink = 1.5 + rnd.random() * 1.5, 0.6 + rnd.random() * 0.4
    for y in range(SIDE):
        for x in range(SIDE):
            u, v = x - 13.5 - dx, y - 13.5 - dy
            d = (abs(v), abs(u), abs(u - v) / math.sqrt(2), abs(u + v) / math.sqrt(2), min(abs(u), abs(v)),
                 abs(math.hypot(u, v) - 7), abs(max(abs(u), abs(v)) - 7), math.hypot(u, v) - 3,
                 min(abs(u - 5), abs(u + 5)) + abs(v) / 4, min(abs(u), abs(v - 6)))[label]
            px[base + y * SIDE + x] = round(ink * max(0.0, min(1.0, thick - d)) * 255)


# --- the server ---------------------------------------------------------------------------------


def find_java() -> str:
    """A java of version 25 or newer: $JAVA_HOME's, else one under /usr/lib/jvm (as the launcher looks)."""
    candidates = []
    if os.environ.get("JAVA_HOME"):
        candidates.append(Path(os.environ["JAVA_HOME"]) / "bin" / "java")
    candidates += sorted(Path("/usr/lib/jvm").glob("*/bin/java"))
    if shutil.which("java"):
        candidates.append(Path(shutil.which("java")))
    for java in candidates:
        if not os.access(java, os.X_OK):
            continue
        out = subprocess.run([str(java), "-XshowSettings:properties", "-version"], capture_output=True, text=True)
        m = re.search(r"java\.specification\.version = (\d+)", out.stderr)
        if m and int(m.group(1)) >= 25:
            return str(java)
    raise RuntimeError("no JDK 25 or newer found (looked at $JAVA_HOME, /usr/lib/jvm and PATH)")


class Server:
    """``latentstream serve --no-job`` with a known token, on a free port, in a temporary directory."""

    def __init__(self, startup_timeout: float = 180.0):
        jar = ROOT / "target" / "latentstream.jar"
        if not jar.is_file():
            raise RuntimeError(f"{jar} is missing: build it first with ./mvnw -B package -DskipTests")
        self.dir = Path(tempfile.mkdtemp(prefix="latentstream-pytest-"))
        self.dataset = write_synthetic(self.dir / "synthetic")
        config = self.dir / "server.json"
        config.write_text(json.dumps({
            "host": "127.0.0.1", "port": 0, "token": TOKEN, "runsDir": str(self.dir / "runs"),
            # specs sent over the network may name dataset directories under dataDir only
            "dataDir": str(self.dir),
            "jobsDir": str(ROOT / "config" / "jobs"), "maxConcurrentJobs": 2, "lossBatchMs": 50}))
        env = {k: v for k, v in os.environ.items() if not k.startswith("LATENTSTREAM_")}
        env["OMP_WAIT_POLICY"] = "PASSIVE"
        self.output: list = []
        self._serving = threading.Event()
        self.url = None
        self.process = subprocess.Popen(
            [find_java(), "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-jar",
             str(jar), "serve", "--no-job", "--config", str(config)],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._drain, daemon=True).start()
        if not self._serving.wait(startup_timeout) or self.url is None:
            self.close()
            raise RuntimeError("the server did not start:\n" + "".join(self.output[-40:]))

    def _drain(self) -> None:
        for line in self.process.stdout:
            self.output.append(line)
            m = re.search(r"latentstream is serving at (http://\S+)", line)
            if m:
                self.url = m.group(1)
                self._serving.set()
        self._serving.set()  # it exited: stop waiting for the line

    def spec(self, epochs: int = 100_000, frame_every: int = 4) -> dict:
        """A tiny VAE with a 2-d latent (so it has a latent plane) on the synthetic data, one CPU thread."""
        return {"model": "vae", "dataset": str(self.dataset), "hidden": [64], "latent": 2, "batchSize": 32,
                "epochs": epochs, "frameEverySteps": frame_every, "threads": 1}

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)

