"""The latentstream model family in plain PyTorch, to use a model trained in latentstream anywhere.

    import latentstream.models
    model = latentstream.models.load("model.safetensors")   # from `latentstream export` or the REST API
    images = model.decode(torch.randn(16, model.latent))     # [16, 784] in [0, 1]

Each class mirrors the Java model of the same name, module for module, so a ``state_dict`` exported by
latentstream (``.pt`` or ``.safetensors``) loads with ``load_state_dict`` and parameter names such as
``encoder.linear0.weight``. Inputs are batches of flattened images, ``[batch, height * width]`` floats in
[0, 1] (``[batch, 1, height, width]`` is flattened); ``decode`` returns images in [0, 1], ``decode_logits``
the values before the sigmoid. ``encode`` returns the code (ae, dae, aae) or ``(mu, logvar)`` (vae,
conv-vae); ``forward`` reconstructs (VAEs through the posterior mean). ``loss`` is the training objective,
term by term, as latentstream reports it.

Needs torch (``pip install ./clients/python[torch]``); the rest of the client does not.
"""

from __future__ import annotations

import json
import struct
from collections import OrderedDict
from pathlib import Path
from typing import Any, Dict, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["build", "load", "loads", "read_safetensors", "MlpAutoencoder", "Vae", "ConvVae",
           "AdversarialAutoencoder"]

_ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


def _mlp(sizes, activation: str, activate_last: bool) -> nn.Sequential:
    """Linear layers ``linear0, linear1, ...`` with the activation ``act0, ...`` after each but maybe the last."""
    layers = OrderedDict()
    for i in range(len(sizes) - 1):
        layers[f"linear{i}"] = nn.Linear(sizes[i], sizes[i + 1])
        if i + 2 < len(sizes) or activate_last:
            layers[f"act{i}"] = _ACTIVATIONS[activation]()
    return nn.Sequential(layers)


def _key(spec: Dict[str, Any], key: str) -> Any:
    if key not in spec:
        raise ValueError(f"the spec has no {key!r}: give the resolved spec (job.json of a run, or an export's)")
    return spec[key]


def reconstruction(logits, target, loss: str, reduction: str):
    """Reconstruction error per image (summed or averaged within it), averaged over the batch."""
    batch = logits.shape[0]
    if loss == "bce":
        total = F.binary_cross_entropy_with_logits(logits, target, reduction="sum")
    else:
        total = F.mse_loss(torch.sigmoid(logits), target, reduction="sum")
    return total / (batch if reduction == "sum" else logits.numel())


def kl(mu, logvar, reduction: str):
    """KL(q(z|x) || N(0, I)); see Kingma & Welling, Auto-Encoding Variational Bayes, Appendix B."""
    total = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return total / (mu.shape[0] if reduction == "sum" else mu.numel())


def free_bits_kl(mu, logvar, free_bits: float, reduction: str):
    """Σ_d max(λ, KL_d), KL_d averaged over the batch (Kingma et al., 2016)."""
    per_dim = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).mean(0)
    total = torch.clamp_min(per_dim, free_bits).sum()
    return total if reduction == "sum" else total / per_dim.numel()


class _Model(nn.Module):
    """What every member of the family shares: the spec, the image size, flattening, decode and forward."""

    variational = False

    def __init__(self, spec: Dict[str, Any], height: int, width: int):
        super().__init__()
        self.spec = dict(spec)
        self.height, self.width = height, width
        self.pixels = height * width
        self.latent = int(_key(spec, "latent"))

    def _flat(self, x):
        return x.reshape(x.shape[0], self.pixels)

    def decode(self, z):
        return torch.sigmoid(self.decode_logits(z))

    def code(self, x):
        """The code of ``x``: the posterior mean for VAEs."""
        e = self.encode(x)
        return e[0] if isinstance(e, tuple) else e

    def forward(self, x):
        return self.decode(self.code(x))


class MlpAutoencoder(_Model):
    """``ae`` and ``dae``: pixels → hidden… → code → …hidden → pixels, the activation after every layer but
    the output. The denoising variant corrupts its input in ``loss`` (Gaussian σ or masking, by the spec)."""

    def __init__(self, spec, height=28, width=28, activate_code=True):
        super().__init__(spec, height, width)
        hidden, act = list(_key(spec, "hidden")), _key(spec, "activation")
        self.encoder = _mlp([self.pixels] + hidden + [self.latent], act, activate_code)
        self.decoder = _mlp([self.latent] + hidden[::-1] + [self.pixels], act, False)

    def encode(self, x):
        return self.encoder(self._flat(x))

    def decode_logits(self, z):
        return self.decoder(z)

    def corrupt(self, x, noise):
        """The denoising corruption with given unit noise (N(0, 1) for gaussian, U(0, 1) for mask)."""
        kind = self.spec.get("noise")
        if not kind or kind["level"] == 0:
            return x
        if kind["kind"] == "gaussian":
            return torch.clamp(x + noise * kind["level"], 0.0, 1.0)
        return x * (noise >= kind["level"]).to(x.dtype)

    def loss(self, x, noise=None) -> Dict[str, torch.Tensor]:
        x = self._flat(x)
        inp = x
        if self.spec.get("noise"):
            if noise is None:
                noise = torch.rand_like(x) if self.spec["noise"]["kind"] == "mask" else torch.randn_like(x)
            inp = self.corrupt(x, noise)
        recon = reconstruction(self.decode_logits(self.encode(inp)), x, self.spec["loss"], self.spec["reduction"])
        return {"recon": recon, "loss": recon}


class AdversarialAutoencoder(MlpAutoencoder):
    """``aae`` (Makhzani et al., 2015): the code layer has no activation, and a discriminator tells codes from
    N(0, I) draws. Its ``loss`` is the reconstruction phase's."""

    def __init__(self, spec, height=28, width=28):
        super().__init__(spec, height, width, activate_code=False)
        hidden = list(_key(spec, "discriminator")["hidden"])
        self.discriminator = _mlp([self.latent] + hidden + [1], "relu", False)


class _Variational(_Model):
    variational = True

    def reparameterize(self, mu, logvar, eps=None):
        std = torch.exp(0.5 * logvar)
        return mu + (torch.randn_like(std) if eps is None else eps) * std

    def loss(self, x, noise=None, beta=None, free_bits=None) -> Dict[str, torch.Tensor]:
        """reconstruction + β · KL; ``noise`` is ε of the reparameterisation (drawn when None)."""
        x = self._flat(x)
        mu, logvar = self.encode(x)
        logits = self.decode_logits(self.reparameterize(mu, logvar, noise))
        reduction = self.spec["reduction"]
        beta = self.spec["beta"] if beta is None else beta
        free_bits = self.spec.get("freeBits", 0) if free_bits is None else free_bits
        recon = reconstruction(logits, x, self.spec["loss"], reduction)
        divergence = kl(mu, logvar, reduction)
        optimised = free_bits_kl(mu, logvar, free_bits, reduction) if free_bits > 0 else divergence
        return {"recon": recon, "kl": divergence, "loss": recon + beta * optimised}


class Vae(_Variational):
    """``vae``: the MLP VAE of the PyTorch example (784-400-20 by default), β-VAE with β ≠ 1."""

    def __init__(self, spec, height=28, width=28):
        super().__init__(spec, height, width)
        hidden, act = list(_key(spec, "hidden")), _key(spec, "activation")
        self.encoder = _mlp([self.pixels] + hidden[:-1] + [hidden[-1]], act, True)
        self.mu = nn.Linear(hidden[-1], self.latent)
        self.logvar = nn.Linear(hidden[-1], self.latent)
        self.decoder = _mlp([self.latent] + hidden[::-1] + [self.pixels], act, False)

    def encode(self, x) -> Tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(self._flat(x))
        return self.mu(h), self.logvar(h)

    def decode_logits(self, z):
        return self.decoder(z)


class ConvVae(_Variational):
    """``conv-vae``: 3×3 convolutions (the second with stride 2) → dense → latent; dense → transposed
    convolution with stride 2 → a 3×3 convolution to one channel."""

    def __init__(self, spec, height=28, width=28):
        super().__init__(spec, height, width)
        conv = _key(spec, "conv")
        channels = list(conv["channels"])
        cin = 1
        for i, c in enumerate(channels):
            setattr(self, f"conv{i}", nn.Conv2d(cin, c, 3, stride=2 if i == 1 else 1, padding=1))
            cin = c
        self.depth = len(channels)
        self.deep = cin
        flat = cin * (height // 2) * (width // 2)
        self.dense = nn.Linear(flat, conv["dense"])
        self.mu = nn.Linear(conv["dense"], self.latent)
        self.logvar = nn.Linear(conv["dense"], self.latent)
        self.decoder_dense = nn.Linear(self.latent, flat)
        self.upsample = nn.ConvTranspose2d(cin, channels[0], 3, stride=2, padding=1, output_padding=1)
        self.output = nn.Conv2d(channels[0], 1, 3, padding=1)

    def encode(self, x):
        h = x.reshape(-1, 1, self.height, self.width)
        for i in range(self.depth):
            h = F.relu(getattr(self, f"conv{i}")(h))
        h = F.relu(self.dense(h.flatten(1)))
        return self.mu(h), self.logvar(h)

    def decode_logits(self, z):
        h = F.relu(self.decoder_dense(z)).view(-1, self.deep, self.height // 2, self.width // 2)
        h = F.relu(self.upsample(h))
        return self.output(h).view(-1, self.pixels)


_CLASSES = {"ae": MlpAutoencoder, "dae": MlpAutoencoder, "vae": Vae, "conv-vae": ConvVae,
            "aae": AdversarialAutoencoder}


def build(spec: Union[Dict[str, Any], str, Path], height: int = 28, width: int = 28) -> nn.Module:
    """A fresh model of the spec's kind (a resolved spec: a dict, or the path of a run's ``job.json``)."""
    if not isinstance(spec, dict):
        spec = json.loads(Path(spec).read_text())
    kind = _key(spec, "model")
    if kind not in _CLASSES:
        raise ValueError(f"unknown model {kind!r} (known: {', '.join(_CLASSES)})")
    return _CLASSES[kind](spec, height, width)


def read_safetensors(data: bytes) -> Tuple[Dict[str, torch.Tensor], Dict[str, str]]:
    """A safetensors file's tensors (F32 only, as latentstream writes) and its ``__metadata__``."""
    if len(data) < 8:
        raise ValueError("not a safetensors file: shorter than its 8-byte header length")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise ValueError(f"not a safetensors file: header of {n} bytes in a file of {len(data)}")
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {}) or {}
    body = memoryview(data)[8 + n:]
    tensors = OrderedDict()
    for name, t in header.items():
        if t["dtype"] != "F32":
            raise ValueError(f"{name}: dtype {t['dtype']}, only F32 is supported")
        start, end = t["data_offsets"]
        count = 1
        for d in t["shape"]:
            count *= d
        if end - start != 4 * count or end > len(body):
            raise ValueError(f"{name}: data_offsets {start}..{end} do not fit shape {t['shape']}")
        values = torch.frombuffer(bytearray(body[start:end]), dtype=torch.float32)
        tensors[name] = values.reshape(t["shape"])
    return tensors, meta


def loads(data: bytes, spec=None) -> nn.Module:
    """:func:`load` from the bytes of a ``.safetensors`` file (``spec`` overrides its own)."""
    tensors, meta = read_safetensors(data)
    if spec is None:
        if "spec" not in meta:
            raise ValueError("this safetensors file has no latentstream spec in its metadata; pass spec=")
        spec = json.loads(meta["spec"])
    height, width = int(meta.get("height", 28)), int(meta.get("width", 28))
    return _ready(build(spec, height, width), tensors, meta)


def load(path: Union[str, Path], spec=None, height: int = 28, width: int = 28) -> nn.Module:
    """The model in ``path``, ready: weights loaded, in eval mode.

    A ``.safetensors`` file from latentstream carries its spec and image size. A ``.pt`` state_dict does
    not: pass ``spec`` (a dict, or the run's ``job.json``) and, for other than 28×28 images, the size.
    """
    path = Path(path)
    if path.suffix == ".safetensors":
        return loads(path.read_bytes(), spec)
    if spec is None:
        raise ValueError(f"{path} is a state_dict without a spec: pass spec= (a dict, or the run's job.json)")
    state = torch.load(path, map_location="cpu", weights_only=True)
    return _ready(build(spec, height, width), state, {})


def _ready(model: nn.Module, state: Dict[str, torch.Tensor], meta: Dict[str, str]) -> nn.Module:
    if meta.get("part", "all") == "decoder":
        missing, unexpected = model.load_state_dict(state, strict=False)
        if unexpected:
            raise ValueError(f"tensors this model does not have: {unexpected}")
        model.part = "decoder"
    else:
        model.load_state_dict(state)
        model.part = "all"
    model.step = int(meta["step"]) if "step" in meta else None
    model.epoch = int(meta["epoch"]) if "epoch" in meta else None
    return model.eval()
