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


def main():
    args = peer.arguments(__doc__)
    spec = args.spec
    model = Autoencoder(spec, 784)
    if args.layout:
        peer.print_layout(model)
        return
    opt = peer.optimizer(spec, model.parameters())
    noise = spec.get("noise")

    def train_step(x):
        opt.zero_grad()
        value = peer.reconstruction(model(corrupt(x, noise)), x, spec)
        value.backward()
        opt.step()
        return value.item()

    def test_loss(x):
        return peer.reconstruction(model(corrupt(x, noise)), x, spec).item()

    peer.run(args, train_step, test_loss)


if __name__ == "__main__":
    main()
