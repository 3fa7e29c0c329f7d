#!/usr/bin/env python3
"""The peer latentstream measures itself against: the PyTorch example VAE (pytorch/examples vae/main.py,
784-400-20, summed BCE + KL, Adam 1e-3, batch 128), trained on Fashion-MNIST IDX files.

Prints one JSON object per epoch: {"epoch", "seconds", "train_loss", "test_loss"}, losses per image.
Run with the Debian interpreter (/usr/bin/python3, python3-torch) and OMP_WAIT_POLICY=PASSIVE.
"""
import argparse
import gzip
import json
import os
import struct
import time

import torch
import torch.nn.functional as F
from torch import nn, optim


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


def load(directory, prefix):
    def find(name):
        for candidate in (name + ".gz", name):
            p = os.path.join(directory, candidate)
            if os.path.exists(p):
                return p
        raise FileNotFoundError(os.path.join(directory, name))
    images = read_idx(find(prefix + "-images-idx3-ubyte")).reshape(-1, 784).float().div(255)
    labels = read_idx(find(prefix + "-labels-idx1-ubyte")).long()
    return images, labels


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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    train_x, _ = load(args.data, "train")
    test_x, _ = load(args.data, "t10k")
    model = VAE()
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    batch = 128
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        model.train()
        total = 0.0
        order = torch.randperm(train_x.shape[0])
        for i in range(0, train_x.shape[0], batch):
            x = train_x[order[i:i + batch]]
            optimizer.zero_grad()
            recon, mu, logvar = model(x)
            loss = loss_function(recon, x, mu, logvar)
            loss.backward()
            total += loss.item()
            optimizer.step()
        model.eval()
        test = 0.0
        with torch.no_grad():
            for i in range(0, test_x.shape[0], batch):
                x = test_x[i:i + batch]
                recon, mu, logvar = model(x)
                test += loss_function(recon, x, mu, logvar).item()
        seconds = time.perf_counter() - start
        print(json.dumps({"epoch": epoch, "seconds": round(seconds, 3),
                          "train_loss": total / train_x.shape[0], "test_loss": test / test_x.shape[0]}), flush=True)


if __name__ == "__main__":
    main()
