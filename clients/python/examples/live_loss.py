"""Plot a job's loss live, notebook style: run it as a script, or paste the cells into Jupyter.

    python examples/live_loss.py http://127.0.0.1:8080/              # the newest job
    python examples/live_loss.py http://127.0.0.1:8080/ --job 2 --seconds 60

Draws with matplotlib when it is installed (in Jupyter, after ``%matplotlib widget`` or ``inline``), and
prints one line per loss batch otherwise. Watching needs no token.
"""

# %% Connect and pick a job
import argparse
import time

from latentstream import Epoch, Frame, History, Loss, Status, SyncClient

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("url", nargs="?", default="http://127.0.0.1:8080/")
parser.add_argument("--job", help="job number or id (default: the newest)")
parser.add_argument("--seconds", type=float, default=float("inf"), help="stop watching after this long")
args = parser.parse_args()

client = SyncClient(args.url)
jobs = client.jobs()
if not jobs:
    raise SystemExit("the server has no jobs: start one in the page, or with client.start('vae-fashion')")
if args.job is None:
    job = jobs[-1]
else:
    job = client.job(int(args.job) if args.job.isdigit() else args.job)
print(f"watching job {job.num} ({job.id}, {job.model}, {job.status})")

# %% A figure when matplotlib is here
try:
    import matplotlib.pyplot as plt
except ImportError:
    plt = None

steps, losses = [], []
if plt is not None:
    plt.ion()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    (line,) = ax.plot([], [], lw=1)
    ax.set_xlabel("step")
    ax.set_ylabel("loss per image")
    ax.set_title(f"{job.id}")

# %% Stream: history first, then batches of new points
# Messages are awaited a second at a time, so --seconds holds even when nothing comes (a paused job), and a
# job that is not training ends the watch once its history is shown: nothing more would come.
deadline = time.monotonic() + args.seconds
with client.subscribe(job, ["loss", "recon", "status"]) as sub:
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            print(f"stopped watching after {args.seconds:g} s")
            break
        try:
            msg = sub.next(timeout=min(left, 1.0))
        except TimeoutError:
            continue
        if isinstance(msg, History):
            steps, losses = list(msg.columns.get("step", [])), list(msg.columns.get("loss", []))
            print(f"history: {len(steps)} steps" + (f", loss {losses[-1]:.3f} at step {steps[-1]}" if steps else ""))
            current = sub.job or job
            if not current.active:
                print(f"job {current.status}: no new points will come")
                break
        elif isinstance(msg, Loss):
            steps += msg.columns["step"]
            losses += msg.columns["loss"]
            if plt is None:
                print(f"step {steps[-1]:>7}  loss {losses[-1]:.3f}")
        elif isinstance(msg, Epoch):
            print(f"epoch {msg.epoch}: test loss {msg.test:.3f} ({msg.seconds:.1f} s)")
        elif isinstance(msg, Frame):
            pass  # msg.png is the reconstruction grid; in Jupyter, display(msg) shows it
        elif isinstance(msg, Status) and msg.job.num == job.num and not msg.job.active:
            print(f"job {msg.job.status}")
            break
        if plt is not None and steps:
            line.set_data(steps, losses)
            ax.relim()
            ax.autoscale_view()
            plt.pause(0.001)

client.close()
if plt is not None:
    plt.ioff()
    plt.show()
