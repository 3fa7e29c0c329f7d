#!/usr/bin/env python3
"""latentstream's ae and dae in PyTorch (model.MlpAutoencoder): pixels -> hidden... -> code -> ...hidden ->
pixels, ReLU after every layer but the output (the code layer too), logits out; trained on the job's
reconstruction loss in its reduction with its optimiser, learning rate and batch. For a dae (the job has
"noise") the input is corrupted as latentstream does: Gaussian noise of sigma = level clipped to [0, 1], or
masking that zeroes each pixel with probability level; the target stays clean, and the test loss is taken
on corrupted test images too. See peer_common.py for the command line and output.
"""
import torch

import peer_common as peer


class Autoencoder(torch.nn.Module):
    def __init__(self, spec, pixels):
        super().__init__()
        hidden, latent = spec["hidden"], spec["latent"]
        self.encoder = peer.mlp([pixels] + hidden + [latent], True)
        self.decoder = peer.mlp([latent] + hidden[::-1] + [pixels], False)

    def forward(self, x):
        return self.decoder(self.encoder(x))


def corrupt(x, noise):
    if noise is None or noise["level"] == 0:
        return x
    if noise["kind"] == "mask":
        return x * (torch.rand_like(x) >= noise["level"]).to(x.dtype)
    return torch.clamp(x + torch.randn_like(x) * noise["level"], 0.0, 1.0)


def steps(model, spec):
    opt = peer.optimizer(spec, model.parameters())
    noise = spec.get("noise")

    def loss(x):
        return peer.reconstruction(model(corrupt(x, noise)), x, spec)

    return (lambda x: peer.descend(opt, loss(x))), (lambda x: loss(x).item())


if __name__ == "__main__":
    peer.main(__doc__, lambda spec, rows, cols: Autoencoder(spec, rows * cols), steps)
