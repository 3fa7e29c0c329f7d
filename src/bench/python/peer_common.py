"""What latentstream's PyTorch peers share: the command line, IDX loading, the epoch loop's timing and the
JSON lines `latentstream bench` reads.

Every peer takes `--job FILE`, the resolved job latentstream trains (bench writes it: layer sizes, loss,
reduction, β, optimiser, learning rate, batch size, seed), so both sides train the same model the same way;
`--seed S` overrides the job's seed (bench --seeds N runs each side on the same N seeds).
Output, one JSON object per line: {"epoch", "seconds", "train_loss", "test_loss"} per epoch (seconds =
training plus the test pass, losses per image in the job's reduction), then {"peak_rss_mib"} (VmHWM,
see peak_rss_mib). With `--layout` a peer prints {"layout": [[name, shape, sum], ...]} (its parameters in order, each with the
sum of its initial values) and stops, which BenchCommandTest and PeerParityTest hold against latentstream's model.
"""
import argparse
import gzip
import json
import math
import os
import resource
import struct
import time

import torch
import torch.nn.functional as F
from torch import nn


TEST_BATCH = 500


def parser(description, job_required=True):
    """The command line every peer takes; `--epochs` is None when not given."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--job", required=job_required, help="the resolved job JSON latentstream trains")
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--epochs", type=int, default=None, help="default: the job's")
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads; 0 leaves torch's choice")
    p.add_argument("--limit", type=int, default=0, help="train and test on the first N images of each set")
    p.add_argument("--seed", type=int, default=None, help="torch's seed (default: the job's); bench --seeds passes each")
    p.add_argument("--layout", action="store_true", help="print the parameters' names and shapes, then stop")
    p.add_argument("--iwae-samples", type=int, default=None,
                   help="K of the IWAE bound after the last epoch, 0 for none (default: the job's, or 64)")
    return p


def arguments(description):
    """The command line, with args.spec the job it names; torch seeded (--seed, else the job's) and on its threads."""
    args = parser(description).parse_args()
    with open(args.job) as f:
        args.spec = json.load(f)
    if args.epochs is None:
        args.epochs = args.spec["epochs"]
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.seed is None:
        args.seed = args.spec.get("seed", 1)
    torch.manual_seed(args.seed)
    return args


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


def load(directory, prefix, limit=0):
    """Images of one split as [n, rows * cols] floats in [0, 1], and their (rows, cols)."""
    def find(name):
        for candidate in (name + ".gz", name):
            p = os.path.join(directory, candidate)
            if os.path.exists(p):
                return p
        raise FileNotFoundError(os.path.join(directory, name))
    images = read_idx(find(prefix + "-images-idx3-ubyte"))
    if limit > 0:
        images = images[:limit]
    rows, cols = images.shape[1], images.shape[2]
    return images.reshape(images.shape[0], -1).float().div(255), (rows, cols)


def mlp(sizes, activate_last):
    """Linear layers from sizes[0] to sizes[-1] with ReLU after each but (unless activate_last) the last."""
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i + 2 < len(sizes) or activate_last:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def reconstruction(logits, target, spec):
    """latentstream's Losses.reconstruction: summed BCE-with-logits (or MSE of the sigmoid) per image, or
    per pixel for reduction "mean"."""
    if spec.get("loss", "bce") == "bce":
        total = F.binary_cross_entropy_with_logits(logits, target, reduction="sum")
    else:
        total = F.mse_loss(torch.sigmoid(logits), target, reduction="sum")
    return total / (logits.shape[0] if spec["reduction"] == "sum" else logits.numel())


def kl(mu, logvar, spec):
    # Kingma and Welling, Auto-Encoding Variational Bayes, Appendix B
    total = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return total / (mu.shape[0] if spec["reduction"] == "sum" else mu.numel())


def optimizer(spec, parameters, lr=None):
    lr = spec["lr"] if lr is None else lr
    kind = spec["optimizer"]
    if kind == "adam":
        return torch.optim.Adam(parameters, lr=lr)
    if kind == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=lr)
    if kind == "sgd":
        return torch.optim.SGD(parameters, lr=lr)
    raise ValueError("optimizer " + kind)


def peak_rss_mib():
    """This process's peak resident memory: VmHWM from /proc/self/status, which belongs to the address
    space exec made. Not ru_maxrss: Linux carries the spawning process's peak over exec into it, so a peer
    started by bench reported the JVM's resident set whenever that was the larger."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    # ru_maxrss is in KiB on Linux
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def print_layout(model):
    """Each parameter's name, shape and the sum of its initial values (in double): the sums show whether
    the peer starts from latentstream's weights at the same seed."""
    print(json.dumps({"layout": [[name, list(p.shape), p.detach().double().sum().item()]
                                 for name, p in model.named_parameters()]}), flush=True)


def iwae_bound(encode, log_likelihood, latent, images, k, max_rows=16384):
    """log p(x) >= E[log 1/K sum_k p(x, z_k) / q(z_k | x)], z_k ~ q(z | x), averaged over images (Burda et al.,
    2016), as latentstream's model.Iwae computes it: images in batches of max_rows // k, samples in chunks
    of at most max_rows decoder rows, combined by a running log-sum-exp. encode(x) -> (mu, logvar);
    log_likelihood(z, x) -> log p(x | z) summed over pixels, [k, b] for z [k, b, latent] and x [b, pixels]."""
    n, d = images.shape[0], latent
    log_2pi = math.log(2 * math.pi)
    per_batch = max(1, min(n, max_rows // k))
    per_chunk = max(1, min(k, max_rows // per_batch))
    total = 0.0
    with torch.no_grad():
        for i in range(0, n, per_batch):
            x = images[i:i + per_batch]
            mu, logvar = encode(x)
            std = torch.exp(0.5 * logvar)
            log_q_const = -0.5 * (logvar.sum(1) + d * log_2pi)
            lse = torch.full((x.shape[0],), -math.inf, dtype=torch.float64)
            for s in range(0, k, per_chunk):
                kc = min(per_chunk, k - s)
                eps = torch.randn(kc, x.shape[0], d)
                z = mu.unsqueeze(0) + eps * std.unsqueeze(0)
                log_px = log_likelihood(z, x)
                log_pz = -0.5 * (z.pow(2).sum(2) + d * log_2pi)
                log_q = -0.5 * eps.pow(2).sum(2) + log_q_const.unsqueeze(0)
                lse = torch.logaddexp(lse, torch.logsumexp((log_px + log_pz - log_q).double(), 0))
            total += (lse - math.log(k)).sum().item()
    return total / n


def bernoulli_log_likelihood(logits, x):
    """log Bernoulli(x; sigmoid(logits)) summed over the last dimension: x * l - softplus(l)."""
    return (x * logits - F.softplus(logits)).sum(-1)


def iwae_after(args, k, bound):
    """An `after` for run: with k > 0, bound(test_x, k) on draws seeded as latentstream's Monitor.iwae
    (epoch_seed of the epoch after the last), printed as {"iwae", "iwae_samples", "iwae_seconds"}."""
    def after(test_x):
        if k > 0:
            torch.manual_seed(epoch_seed(run_seed(args), args.epochs + 1))
            start = time.perf_counter()
            value = bound(test_x, k)
            print(json.dumps({"iwae": value, "iwae_samples": k,
                              "iwae_seconds": round(time.perf_counter() - start, 3)}), flush=True)
    return after


def descend(opt, value):
    """One step of opt down value (a scalar tensor whose graph reaches opt's parameters); value's number."""
    opt.zero_grad()
    value.backward()
    opt.step()
    return value.item()


def epoch_seed(seed, epoch):
    """latentstream's EpochLoop.epochSeed: each epoch's order of images and noise are drawn after seeding
    the generator with this. libtorch's CPU generator and this torch's draw the same numbers from the same
    seed (randperm, randn, the layers' initial weights; PeerParityTest holds it), so the two sides of a bench row
    see the same batches in the same order with the same noise, and their losses differ only by their
    arithmetic: independent draws moved the conv VAE's test loss after one epoch by several per cent."""
    return seed * 1_000_003 + epoch


def run_seed(args):
    """The run's seed: --seed, else the job's (arguments() sets it; vae_reference.py without a job: 1)."""
    return args.seed


def run(args, train_step, test_loss, batch, test_batch=TEST_BATCH, after=None):
    """The epoch loop: train_step(x) -> loss per image of the batch, on batches of `batch` images in a fresh
    random order per epoch (seeded by epoch_seed from run_seed); then test_loss(x) -> the same without gradients, on test
    batches of test_batch (500 as latentstream's test pass: the loss per image does not depend on the test
    batch size). after(test_x), when given, runs after the last epoch, before the peak memory is printed."""
    train_x, _ = load(args.data, "train", args.limit)
    test_x, _ = load(args.data, "t10k", args.limit)
    for epoch in range(1, args.epochs + 1):
        torch.manual_seed(epoch_seed(run_seed(args), epoch))
        start = time.perf_counter()
        total = 0.0
        order = torch.randperm(train_x.shape[0])
        for i in range(0, train_x.shape[0], batch):
            x = train_x[order[i:i + batch]]
            total += train_step(x) * x.shape[0]
        test = 0.0
        with torch.no_grad():
            for i in range(0, test_x.shape[0], test_batch):
                x = test_x[i:i + test_batch]
                test += test_loss(x) * x.shape[0]
        seconds = time.perf_counter() - start
        print(json.dumps({"epoch": epoch, "seconds": round(seconds, 3),
                          "train_loss": total / train_x.shape[0], "test_loss": test / test_x.shape[0]}), flush=True)
    if after is not None:
        after(test_x)
    print(json.dumps({"peak_rss_mib": peak_rss_mib()}), flush=True)


def main(description, build, steps, iwae=None):
    """A peer's whole run from its command line: build(spec, rows, cols) -> the model (28 x 28 images for
    --layout, which prints its layout and stops), then steps(model, spec) -> (train_step, test_loss) for run,
    on batches of the job's size; iwae(model, spec) -> bound(test_x, k), when given, after the last epoch
    with --iwae-samples (default: the job's iwaeSamples, or 64)."""
    args = arguments(description)
    rows, cols = (28, 28) if args.layout else load(args.data, "t10k", 1)[1]
    model = build(args.spec, rows, cols)
    if args.layout:
        print_layout(model)
        return
    train_step, test_loss = steps(model, args.spec)
    bound = iwae(model, args.spec) if iwae is not None else None
    after = None
    if bound is not None:
        k = args.iwae_samples if args.iwae_samples is not None else args.spec.get("iwaeSamples", 64)
        after = iwae_after(args, k, bound)
    run(args, train_step, test_loss, args.spec["batchSize"], after=after)
