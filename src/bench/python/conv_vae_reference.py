#!/usr/bin/env python3
"""latentstream's conv-vae in PyTorch: the Keras tutorial's convolutional VAE ("Deep Learning with Python"
8.4) as latentstream builds it (model.ConvVae, config.ModelLayout). 3x3 convolutions conv.channels with
padding 1, the second with stride 2, ReLU after each -> dense conv.dense (ReLU) -> mu, log-variance; decoder:
dense latent -> the last channel count at half resolution (ReLU) -> 3x3 transposed convolution with stride
2, padding 1, output padding 1, to channels[0] (ReLU) -> 3x3 convolution to one channel, logits. Loss: the
job's reconstruction plus beta * KL in the job's reduction; the job's optimiser, learning rate and batch.
After the last epoch, with the bce loss, the IWAE bound on the test set as latentstream computes it (K =
--iwae-samples, default the job's iwaeSamples), which latentstream's run makes too.
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


# latentstream's Iwae.DECODER_BYTES: what one decoder pass of the bound may hold in its widest activation
DECODER_BYTES = 4096 * 784 * 4


def iwae(model, spec):
    """The IWAE bound of the trained model, bound(test_x, k); None unless the decoder is Bernoulli (bce).
    As latentstream's Iwae, the samples of a chunk go through the decoder a few rows at a time, so its
    widest maps (channels[0] at the image's size) hold at most DECODER_BYTES."""
    if spec.get("loss", "bce") != "bce":
        return None
    widest = spec["conv"]["channels"][0] * model.shape[0] * model.shape[1]
    rows = max(1, DECODER_BYTES // (widest * 4))

    def log_likelihood(z, x):
        k, b = z.shape[0], z.shape[1]
        per_piece = max(1, rows // b)
        pieces = []
        for s in range(0, k, per_piece):
            part = z[s:s + per_piece]
            logits = model.decode_logits(part.reshape(-1, part.shape[2])).view(part.shape[0], b, -1)
            pieces.append(peer.bernoulli_log_likelihood(logits, x))
        return torch.cat(pieces)

    return lambda test_x, k: peer.iwae_bound(model.encode, log_likelihood, spec["latent"], test_x, k)


if __name__ == "__main__":
    peer.main(__doc__, ConvVAE, steps, iwae)
