#!/usr/bin/env python3
"""latentstream's conv-vae in PyTorch: the Keras tutorial's convolutional VAE ("Deep Learning with Python"
8.4) as latentstream builds it (model.ConvVae, config.ModelLayout). 3x3 convolutions conv.channels with
padding 1, the second with stride 2, ReLU after each -> dense conv.dense (ReLU) -> mu, log-variance; decoder:
dense latent -> the last channel count at half resolution (ReLU) -> 3x3 transposed convolution with stride
2, padding 1, output padding 1, to channels[0] (ReLU) -> 3x3 convolution to one channel, logits. Loss: the
job's reconstruction plus beta * KL in the job's reduction; the job's optimiser, learning rate and batch.
See peer_common.py for the command line and output.
"""
import torch
import torch.nn.functional as F
from torch import nn

import peer_common as peer


class ConvVAE(nn.Module):
    def __init__(self, spec, rows, cols):
        super().__init__()
        channels = spec["conv"]["channels"]
        dense = spec["conv"]["dense"]
        latent = spec["latent"]
        convs, c_in = [], 1
        for i, c_out in enumerate(channels):
            convs.append(nn.Conv2d(c_in, c_out, 3, stride=2 if i == 1 else 1, padding=1))
            c_in = c_out
        # named conv0..conv3 as latentstream's, registered in its order
        for i, conv in enumerate(convs):
            self.add_module("conv%d" % i, conv)
        self.convs = convs
        self.deep = (channels[-1], rows // 2, cols // 2)
        flat = channels[-1] * (rows // 2) * (cols // 2)
        self.dense = nn.Linear(flat, dense)
        self.mu = nn.Linear(dense, latent)
        self.logvar = nn.Linear(dense, latent)
        self.decoder_dense = nn.Linear(latent, flat)
        self.upsample = nn.ConvTranspose2d(channels[-1], channels[0], 3, stride=2, padding=1, output_padding=1)
        self.output = nn.Conv2d(channels[0], 1, 3, padding=1)
        self.shape = (rows, cols)

    def encode(self, x):
        h = x.view(-1, 1, *self.shape)
        for conv in self.convs:
            h = F.relu(conv(h))
        h = F.relu(self.dense(h.flatten(1)))
        return self.mu(h), self.logvar(h)

    def decode_logits(self, z):
        h = F.relu(self.decoder_dense(z)).view(-1, *self.deep)
        h = F.relu(self.upsample(h))
        return self.output(h).view(z.shape[0], -1)

    def forward(self, x):
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode_logits(z), mu, logvar


def steps(model, spec):
    opt = peer.optimizer(spec, model.parameters())

    def loss(x):
        logits, mu, logvar = model(x)
        return peer.reconstruction(logits, x, spec) + spec["beta"] * peer.kl(mu, logvar, spec)

    def test_loss(x):
        model.eval()
        value = loss(x).item()
        model.train()
        return value

    return (lambda x: peer.descend(opt, loss(x))), test_loss


if __name__ == "__main__":
    peer.main(__doc__, ConvVAE, steps)
