"""Parsing of server messages, without a server: every typed message, the frame header, unknown types."""

import struct

import support  # noqa: F401  (puts the package from the checkout on the path first)
from support import TestCase

import latentstream as ls


class FrameHeaderTest(TestCase):

    def test_the_24_byte_header_is_read_big_endian_as_protocol_md_lays_it_out(self):
        png = ls.PNG_SIGNATURE + b"rest"
        data = bytes([1, 4, 1, 0]) + struct.pack(">I", 5) + struct.pack(">Q", 123_456_789_012) \
            + struct.pack(">I", 7) + struct.pack(">HH", 300, 280) + png
        f = ls.parse_frame(data)
        self.assertEqual((f.version, f.kind, f.format, f.job, f.step, f.epoch, f.width, f.height),
                         (1, "manifold", 1, 5, 123_456_789_012, 7, 300, 280))
        self.assertEqual(png, f.png)
        self.assertEqual(png, f._repr_png_())

    def test_a_points_frame_is_read_as_coordinates_over_the_range_and_labels(self):
        header = bytes([1, 3, 2, 0]) + struct.pack(">IQIHH", 2, 500, 1, 512, 512)
        body = struct.pack(">ffffI", -2.0, 2.0, -1.0, 3.0, 2) + struct.pack(">HHHH", 0, 65535, 65535, 0) + bytes([4, 9])
        f = ls.parse_frame(header + body)
        self.assertIsInstance(f, ls.LatentPoints)
        self.assertIsInstance(f, ls.Frame)
        self.assertEqual(("latent", 2, 500, 2), (f.kind, f.format, f.step, f.job))
        self.assertEqual((-2.0, 2.0), f.x)
        self.assertEqual((3.0, -1.0), f.y)
        self.assertEqual((4, 9), f.labels)
        self.assertEqual((-2.0, 2.0, -1.0, 3.0), f.range)

    def test_a_points_frame_whose_count_does_not_match_its_length_is_a_clear_error(self):
        header = bytes([1, 3, 2, 0]) + struct.pack(">IQIHH", 2, 500, 1, 512, 512)
        with self.assertRaisesRegex(ls.BadServerMessage, "does not hold 3 points"):
            ls.parse_frame(header + struct.pack(">ffffI", 0, 1, 0, 1, 3) + bytes(5))

    def test_every_kind_code_has_its_name(self):
        self.assertEqual({1: "recon", 2: "samples", 3: "latent", 4: "manifold"}, ls.FRAME_KINDS)

    def test_a_short_binary_message_is_a_clear_error(self):
        with self.assertRaisesRegex(ls.BadServerMessage, "shorter than the 24-byte frame header"):
            ls.parse_frame(b"\x01\x01")

    def test_another_protocol_version_in_a_frame_is_a_clear_error(self):
        with self.assertRaisesRegex(ls.BadServerMessage, "version 2"):
            ls.parse_frame(bytes([2]) + bytes(23))


class MessageTest(TestCase):

    def test_loss_columns_and_terms(self):
        m = ls.parse_message({"type": "loss", "job": 1, "columns": {"step": [3, 4], "epoch": [1, 1],
                                                                      "time": [1, 2], "recon": [5.0, 4.0],
                                                                      "kl": [0.9, 1.2], "loss": [5.9, 5.2]}})
        self.assertIsInstance(m, ls.Loss)
        self.assertEqual(1, m.job)
        self.assertEqual(["recon", "kl", "loss"], m.terms)
        self.assertEqual([5.9, 5.2], m.columns["loss"])

    def test_status_carries_a_job_with_the_plan_fields(self):
        m = ls.parse_message({"type": "status", "job": {"id": "a", "num": 3, "status": "interrupted", "step": 9,
                                                        "epoch": 1, "iwae": 88.5}})
        self.assertIsInstance(m, ls.Status)
        self.assertEqual((3, "interrupted", 88.5), (m.job.num, m.job.status, m.job.iwae))

    def test_diagnostics_and_warning_are_typed(self):
        d = ls.parse_message({"type": "diagnostics", "job": 1, "step": 1200, "epoch": 2, "kind": "kl",
                              "values": [0.8, 0.01], "activeUnits": 1, "topK": 5, "topKFraction": 0.83})
        self.assertIsInstance(d, ls.Diagnostics)
        self.assertEqual(("kl", 1, 5, 0.83), (d.kind, d.active_units, d.top_k, d.top_k_fraction))
        w = ls.parse_message({"type": "warning", "job": 1, "step": 4200, "epoch": 3, "code": "posterior_collapse",
                              "message": "only 1 of 20 latent dimensions is active", "setting": "beta"})
        self.assertIsInstance(w, ls.JobWarning)
        self.assertEqual(("posterior_collapse", "beta"), (w.code, w.setting))

    def test_a_plane_message_carries_the_plane_to_latent_map_when_the_server_sends_it(self):
        p = ls.parse_message({"type": "plane", "job": 1, "step": 938, "range": [-3.1, 3.4, -2.9, 3.0],
                              "origin": [0.1, -0.2, 0.05], "axes": [[0.6, 0.8, 0.0], [-0.8, 0.6, 0.0]]})
        self.assertEqual((0.1, -0.2, 0.05), p.origin)
        self.assertEqual(((0.6, 0.8, 0.0), (-0.8, 0.6, 0.0)), p.axes)
        self.assertEqual((-3.1, 3.4, -2.9, 3.0), p.range)
        old = ls.parse_message({"type": "plane", "job": 1, "step": 938, "range": [-3.1, 3.4, -2.9, 3.0]})
        self.assertIsNone(old.origin)
        self.assertIsNone(old.axes)
        self.assertEqual(938, old.raw["step"])

    def test_every_documented_server_message_has_a_type(self):
        samples = {
            "welcome": {"version": 1, "authorized": False, "jobs": [{"id": "a", "num": 1, "status": "running"}]},
            "history": {"job": 1, "jobId": "a", "columns": {"step": [1]}, "test": {"epoch": []}, "settings": []},
            "epoch": {"job": 1, "epoch": 1, "step": 469, "test": 262.4, "train": {"loss": 284.8}, "seconds": 2.3},
            "setting": {"job": 1, "step": 300, "epoch": 0, "key": "lr", "value": 0.0005},
            "plane": {"job": 1, "step": 938, "range": [-3.1, 3.4, -2.9, 3.0]},
            "log": {"job": 1, "message": "fetching"},
            "deleted": {"job": 2, "jobId": "b"},
            "error": {"id": "7", "code": "busy", "message": "later", "retryAfterMs": 250},
        }
        for type_, body in samples.items():
            m = ls.parse_message({"type": type_, **body})
            self.assertNotIsInstance(m, ls.Message, type_)
            self.assertEqual(type_, m.type)
        self.assertEqual(250, ls.parse_message({"type": "error", **samples["error"]}).retry_after_ms)

    def test_an_unknown_type_comes_through_as_a_generic_message(self):
        m = ls.parse_message({"type": "hologram", "job": 1, "depth": 3})
        self.assertIsInstance(m, ls.Message)
        self.assertEqual(("hologram", 3), (m.type, m.raw["depth"]))

    def test_a_known_type_in_an_unexpected_shape_comes_through_untyped_rather_than_failing(self):
        m = ls.parse_message({"type": "epoch", "job": 1})
        self.assertIsInstance(m, ls.Message)
        self.assertEqual("epoch", m.type)

    def test_a_busy_error_raises_busy_error_with_the_retry_delay(self):
        e = ls.messages.server_error({"type": "error", "id": "3", "code": "busy", "message": "decode rationed",
                                      "retryAfterMs": 400}, "decode")
        self.assertIsInstance(e, ls.BusyError)
        self.assertIsInstance(e, ls.ServerError)
        self.assertEqual(("busy", "decode rationed", 400), (e.code, e.message, e.retry_after_ms))
        self.assertEqual("busy (decode): decode rationed", str(e))


class UrlTest(TestCase):

    def test_the_url_serve_prints_becomes_the_websocket_url_with_the_token(self):
        self.assertEqual("ws://127.0.0.1:8080/ws?token=a%2Fb", ls.ws_url("http://127.0.0.1:8080/", "a/b"))
        self.assertEqual("wss://h/x/ws", ls.ws_url("https://h/x", None))
        self.assertEqual("ws://h:1/ws", ls.ws_url("ws://h:1/ws?token=old", None))

    def test_a_url_of_another_scheme_is_refused(self):
        with self.assertRaisesRegex(ValueError, "not a server URL"):
            ls.ws_url("ftp://h/", None)
