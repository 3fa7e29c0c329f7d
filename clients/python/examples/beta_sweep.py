"""Start a β sweep and plot its members' test loss, notebook style: run it as a script, or paste the cells
into Jupyter.

    python examples/beta_sweep.py http://127.0.0.1:8080/ --token TOKEN
    python examples/beta_sweep.py http://127.0.0.1:8080/ --token TOKEN --preset vae-mnist --betas 0.5,1,2,4 --epochs 3

Starting needs the control token (``serve`` prints it). The members go through the server's queue like any
job; the page's compare view (``/?compare=N,M,...``) shows them live meanwhile. Draws with matplotlib when
it is installed, and prints a table otherwise.
"""

# %% Start the sweep: one job per β
import argparse
import time

from latentstream import SyncClient

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("url", nargs="?", default="http://127.0.0.1:8080/")
parser.add_argument("--token", required=True)
parser.add_argument("--preset", default="vae-fashion")
parser.add_argument("--betas", default="0.5,1,2,4")
parser.add_argument("--epochs", type=int, default=2)
parser.add_argument("--timeout", type=float, default=3600, help="give up waiting after this many seconds")
args = parser.parse_args()

client = SyncClient(args.url, args.token)
betas = [float(b) for b in args.betas.split(",")]
members = client.start_sweep(args.preset, sweep={"beta": betas}, epochs=args.epochs)
nums = [m.num for m in members]
print(f"sweep {members[0].raw.get('sweep')}: jobs {nums}; compare them at "
      f"{client._client.http}/?compare={','.join(map(str, nums))}")

# %% Wait until every member has finished
deadline = time.time() + args.timeout
while True:
    runs = {r["num"]: r for r in client.runs() if r["num"] in nums}
    if all(r["status"] not in ("queued", "running", "paused") for r in runs.values()) or time.time() > deadline:
        break
    time.sleep(2)
for n in nums:
    r = runs[n]
    print(f"job {n}: beta={r['spec'].get('beta')} {r['status']}, test loss {r['results'].get('testLoss')}")

# %% Each member's test loss per epoch, on one plot
curves = {}
for n in nums:
    m = client.metrics(n)
    cols = m if isinstance(m, dict) else {k: m[k].tolist() for k in m.columns}
    points = [(e, t) for e, t in zip(cols["epoch"], cols["test_loss"]) if t is not None and t == t]
    curves[runs[n]["spec"].get("beta")] = points
try:
    import matplotlib.pyplot as plt
except ImportError:
    for beta, points in curves.items():
        print(f"beta={beta}: " + ", ".join(f"epoch {e:g}: {t:.3f}" for e, t in points))
else:
    for beta, points in curves.items():
        plt.plot([e for e, _ in points], [t for _, t in points], marker="o", label=f"β={beta}")
    plt.xlabel("epoch")
    plt.ylabel("test loss per image")
    plt.legend()
    plt.show()
client.close()
