"""``latentstream.models`` against models trained by the real jar: each kind trained for one short epoch on
``synthetic``, exported in both formats, loaded, and checked against the jar's own loss and reconstructions
of a fixed batch (``evaluate --batch``). Also ``Client.model`` through a real ``serve``.

Needs torch (Debian's python3-torch, which ``.ci/setup`` installs).
"""

import io
import json
import os
import shutil
import struct
import subprocess
import tempfile
import time
import unittest
import warnings
from pathlib import Path

import support
from support import TOKEN, TestCase

try:
    import torch
    from latentstream import models
except ImportError:  # the client's own tests run without torch; these are then skipped, saying why
    torch = None

import latentstream as ls

LOSS_RTOL = 1e-4
PIXEL_ATOL = 1e-5

# One short epoch each (6000 synthetic images), small enough for a 2-core CI machine.
SPECS = {
    "ae": {"model": "ae", "hidden": [64, 32], "latent": 8, "loss": "mse", "reduction": "mean",
           "activation": "tanh"},
    "dae": {"model": "dae", "hidden": [64], "latent": 8, "noise": {"kind": "mask", "level": 0.3}},
    "vae": {"model": "vae", "hidden": [64], "latent": 4, "beta": 2.0, "freeBits": 0.05},
    "conv-vae": {"model": "conv-vae", "conv": {"channels": [16, 16], "dense": 16}, "latent": 2,
                 "reduction": "mean"},
    "aae": {"model": "aae", "hidden": [64, 32], "latent": 2},
}


def jar(*args, cwd=None):
    """Runs the packaged jar's CLI and returns its stdout; fails the test with its output otherwise."""
    cmd = [support.find_java(), "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
           "-jar", str(support.ROOT / "target" / "latentstream.jar"), *args]
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                         env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}, timeout=600)
    if out.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {out.returncode}:\n{out.stdout}\n{out.stderr}")
    return out.stdout


def read_safetensors_by_hand(data: bytes):
    """A reader written from the format's description alone, independent of latentstream.models."""
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__")
    base = 8 + n
    out = {}
    end_seen = 0
    for name, t in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        begin, end = t["data_offsets"]
        assert begin == end_seen, f"{name}: a gap or overlap at {begin}"
        count = 1
        for d in t["shape"]:
            count *= d
        assert t["dtype"] == "F32" and end - begin == 4 * count
        out[name] = (t["shape"], struct.unpack(f"<{count}f", data[base + begin:base + end]))
        end_seen = end
    assert base + end_seen == len(data), "bytes after the last tensor"
    return out, meta


@unittest.skipIf(torch is None, "torch is missing (apt install python3-torch)")
class ExportedModelsTest(TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = Path(tempfile.mkdtemp(prefix="latentstream-models-"))
        cls.runs = {}
        for kind, spec in SPECS.items():
            job = cls.dir / f"{kind}.json"
            job.write_text(json.dumps({"dataset": "synthetic", "epochs": 1, "batchSize": 128, "threads": 1,
                                       "iwaeSamples": 0, "frameEverySteps": 0, **spec}))
            run = cls.dir / kind
            jar("train", "--job", str(job), "--out", str(run), "--plain")
            for fmt in ("pt", "safetensors"):
                jar("export", "--run", str(run), "--format", fmt, "--out", str(run / f"model.{fmt}"))
            jar("evaluate", "--run", str(run), "--batch", "16", "--json", str(run / "reference.json"))
            cls.runs[kind] = run

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def check_against_the_jar(self, kind, model):
        run = self.runs[kind]
        ref = json.loads((run / "reference.json").read_text())
        self.assertFalse(model.training, "a loaded model is in eval mode")
        x = torch.tensor(ref["images"])
        noise = torch.tensor(ref["noise"]) if "noise" in ref else None
        with torch.no_grad():
            terms = model.loss(x, noise)
            recon = model(x)
        self.assertEqual(list(ref["terms"]), list(terms), "the same loss terms")
        for name, ours in ref["terms"].items():
            self.assertLessEqual(abs(float(terms[name]) - ours), LOSS_RTOL * abs(ours),
                                 f"{kind} {name}: python {float(terms[name])} vs latentstream {ours}")
        diff = (recon - torch.tensor(ref["reconstructions"])).abs().max().item()
        self.assertLessEqual(diff, PIXEL_ATOL, f"{kind}: reconstructions differ by up to {diff}")
        # decode(encode) is the same path by hand
        with torch.no_grad():
            self.assertTrue(torch.equal(model.decode(model.code(x)), recon))

    def test_each_kind_loads_from_safetensors_and_matches_the_jars_loss_and_reconstructions(self):
        for kind in SPECS:
            with self.subTest(kind=kind):
                model = models.load(self.runs[kind] / "model.safetensors")
                self.assertEqual(kind, model.spec["model"])
                self.assertEqual(1, model.epoch)
                self.check_against_the_jar(kind, model)

    def test_each_kind_loads_from_pt_with_the_runs_spec(self):
        for kind in SPECS:
            with self.subTest(kind=kind):
                model = models.load(self.runs[kind] / "model.pt", spec=self.runs[kind] / "job.json")
                self.check_against_the_jar(kind, model)

    def test_torch_load_weights_only_reads_the_pt_without_a_warning_and_equals_the_safetensors(self):
        for kind in SPECS:
            with self.subTest(kind=kind):
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    state = torch.load(self.runs[kind] / "model.pt", weights_only=True)
                by_hand, meta = read_safetensors_by_hand((self.runs[kind] / "model.safetensors").read_bytes())
                self.assertEqual(list(state), list(by_hand), "same names, same order")
                for name, t in state.items():
                    shape, values = by_hand[name]
                    self.assertEqual(list(t.shape), shape, name)
                    self.assertEqual(torch.float32, t.dtype)
                    self.assertTrue(torch.equal(t.flatten(), torch.tensor(values, dtype=torch.float32)), name)
                self.assertEqual(kind, meta["model"])
                spec = json.loads((self.runs[kind] / "job.json").read_text())
                spec.pop("result", None)  # what the run reported at its end, not part of the spec
                self.assertEqual(spec, json.loads(meta["spec"]))
                built = models.build(json.loads(meta["spec"]))
                self.assertEqual(list(built.state_dict()), list(state), "the Python module has the same keys")
                built.load_state_dict(state)

    def test_a_pt_without_spec_and_a_damaged_safetensors_are_clear_errors(self):
        with self.assertRaisesRegex(ValueError, "spec="):
            models.load(self.runs["vae"] / "model.pt")
        data = (self.runs["vae"] / "model.safetensors").read_bytes()
        with self.assertRaisesRegex(ValueError, "header"):
            models.loads(struct.pack("<Q", len(data)) + data[8:])
        with self.assertRaisesRegex(ValueError, "not a safetensors"):
            models.loads(b"abc")


@unittest.skipIf(torch is None, "torch is missing (apt install python3-torch)")
class ClientModelTest(TestCase):

    def test_client_model_is_the_jobs_checkpoint_as_a_ready_module(self):
        server = support.Server()
        try:
            with ls.SyncClient(server.url, TOKEN) as c:
                job = c.start(spec=server.spec(epochs=1, frame_every=0))
                deadline = time.monotonic() + 300
                while c.job(job.num).status != "completed":
                    self.assertLess(time.monotonic(), deadline, "the job did not finish")
                    time.sleep(0.2)
                model = c.model(job)
                decoder = c.model(job, part="decoder")
                raw = c.export(job, "pt")
            run = next((server.dir / "runs").iterdir())
            jar("export", "--run", str(run), "--format", "safetensors", "--out", str(server.dir / "cli.safetensors"))
            from_cli = models.load(server.dir / "cli.safetensors")
            self.assertFalse(model.training)
            z = torch.randn(5, model.latent)
            with torch.no_grad():
                self.assertTrue(torch.equal(from_cli.decode(z), model.decode(z)), "REST and CLI export the same model")
                self.assertTrue(torch.equal(decoder.decode(z), model.decode(z)), "the decoder part decodes alike")
            self.assertEqual("decoder", decoder.part)
            state = torch.load(io.BytesIO(raw), weights_only=True)
            self.assertEqual(set(model.state_dict()), set(state))
            with ls.SyncClient(server.url) as anonymous:
                with self.assertRaises(ls.ServerError) as e:
                    anonymous.export(job)
                self.assertIn("token", e.exception.message)
        finally:
            server.close()
