"""PyTorch side of `cream bench train-step`: the same child network, the same step (forward,
label-smoothed CE, backward, SGD Nesterov), timed the same way.

A line protocol, so that the benchmark can alternate windows of ours and PyTorch of the same
length. First line: the job {"network": <describeNetwork output>, "batch": 128, "threads": 2};
answer {"ready": true, "torch": version}. Then each line
{"format": "nchw" | "channels_last", "warmup": n, "steps": n} -> {"medianStepMs", "peakRssBytes"}
(or {"error"}). The network of the last format used is kept, so later windows need no set-up;
asking for the other format builds it afresh."""
import json
import os
import resource
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
from torch_net import Net  # noqa: E402


class Trainer:
    """One network, input batch and optimiser in one memory format."""

    def __init__(self, job, channels_last):
        torch.manual_seed(0)
        net = Net(job["network"]).train()
        c, h, w = job["network"]["input"]
        x = torch.randn(job["batch"], c, h, w)
        self.y = torch.randint(0, job["network"]["classes"], (job["batch"],))
        if channels_last:
            net = net.to(memory_format=torch.channels_last)
            x = x.contiguous(memory_format=torch.channels_last)
        self.net, self.x = net, x
        self.opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=4e-5)
        self.loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)

    def median_step(self, warmup, steps):
        times = []
        for i in range(warmup + steps):
            t0 = time.perf_counter()
            self.opt.zero_grad(set_to_none=True)
            loss = self.loss_fn(self.net(self.x), self.y)
            loss.backward()
            self.opt.step()
            dt = time.perf_counter() - t0
            if i >= warmup:
                times.append(dt)
        return statistics.median(times)


def peak_rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def serve():
    job = json.loads(sys.stdin.readline())
    torch.set_num_threads(job["threads"])
    print(json.dumps({"ready": True, "torch": torch.__version__}), flush=True)
    trainer, trainer_format = None, None
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            if request["format"] != trainer_format:
                trainer = None  # free the other format's network first
                trainer = Trainer(job, request["format"] == "channels_last")
                trainer_format = request["format"]
            seconds = trainer.median_step(request["warmup"], request["steps"])
            print(json.dumps({"medianStepMs": seconds * 1000, "peakRssBytes": peak_rss()}), flush=True)
        except Exception as e:  # reported to the benchmark, which names it
            print(json.dumps({"error": f"{type(e).__name__}: {e}"}), flush=True)


if __name__ == "__main__":
    serve()
