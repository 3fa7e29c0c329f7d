#!/usr/bin/env python3
"""The peer latentstream measures itself against: the PyTorch example VAE (pytorch/examples vae/main.py,
784-400-20, summed BCE + KL, Adam 1e-3, batch 128), trained on Fashion-MNIST IDX files.

Prints one JSON object per epoch: {"epoch", "seconds", "train_loss", "test_loss"}, losses per image, then
{"iwae", "iwae_samples", "iwae_seconds"}: the importance-weighted bound on log p(x) over the test set in nats
per image (Burda et al., 2016), computed exactly as latentstream's Iwae does, and last {"peak_rss_mib"}: the
process's peak resident memory (VmHWM), which bench sets beside its own.
Run with the Debian interpreter (/usr/bin/python3, python3-torch) and OMP_WAIT_POLICY=PASSIVE.
`--job FILE` (what `latentstream bench` passes) is checked to be this very model; `--limit N` trains and tests on
the first N images of each set; `--layout` prints the parameters' names and shapes (see peer_common.py).
"""
import json

import torch
import torch.nn.functional as F
from torch import nn, optim

import peer_common as peer


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        return mu + torch.randn_like(std) * std

    def decode(self, z):
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x, reduction="sum")
    # Kingma and Welling, Auto-Encoding Variational Bayes, Appendix B
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def iwae_bound(model, images, k):
    """The importance-weighted bound over images (peer_common.iwae_bound), decoding all of a chunk at once."""
    return peer.iwae_bound(model.encode, lambda z, x: peer.bernoulli_log_likelihood(model.fc4(F.relu(model.fc3(z))), x),
                           model.fc21.out_features, images, k)


def check_job(path):
    with open(path) as f:
        spec = json.load(f)
    mine = {"model": "vae", "hidden": [400], "latent": 20, "loss": "bce", "reduction": "sum", "beta": 1.0,
            "optimizer": "adam", "lr": 0.001, "batchSize": 128}
    defaults = {"beta": 1.0, "loss": "bce", "reduction": "sum", "optimizer": "adam", "lr": 0.001, "batchSize": 128}
    differs = {k: spec.get(k, defaults.get(k)) for k, v in mine.items() if spec.get(k, defaults.get(k)) != v}
    if differs:
        raise SystemExit("vae_reference.py is the PyTorch example VAE " + json.dumps(mine)
                         + "; this job differs in " + json.dumps(differs))


def main():
    parser = peer.parser(__doc__, job_required=False)
    args = parser.parse_args()
    if args.epochs is None:
        args.epochs = 10
    if args.job:
        check_job(args.job)
    # The example's seed of 1 unless --seed (peer_common's option) says otherwise.
    if args.seed is None:
        args.seed = 1
    torch.manual_seed(args.seed)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    model = VAE()
    if args.layout:
        peer.print_layout(model)
        return
    optimizer = optim.Adam(model.parameters(), lr=1e-3)

    def loss(x):
        recon, mu, logvar = model(x)
        return loss_function(recon, x, mu, logvar)

    def train_step(x):
        return peer.descend(optimizer, loss(x)) / x.shape[0]

    def test_loss(x):
        return loss(x).item() / x.shape[0]

    # The example's batch of 128, for its test pass too.
    k = 64 if args.iwae_samples is None else args.iwae_samples
    peer.run(args, train_step, test_loss, 128, 128, peer.iwae_after(args, k, lambda test_x, k: iwae_bound(model, test_x, k)))


if __name__ == "__main__":
    main()
