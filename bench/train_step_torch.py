"""PyTorch side of `cream bench train-step`: the same child network, the same step (forward,
label-smoothed CE, backward, SGD Nesterov), timed the same way. Reads a JSON job on stdin:
{"network": <describeNetwork output>, "batch": 128, "warmup": 3, "steps": 10, "threads": 2}
and prints one JSON line with the best of NCHW and channels_last."""
import json
import os
import resource
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
from torch_net import Net  # noqa: E402


def measure(job, channels_last):
    torch.manual_seed(0)
    net = Net(job["network"]).train()
    c, h, w = job["network"]["input"]
    x = torch.randn(job["batch"], c, h, w)
    y = torch.randint(0, job["network"]["classes"], (job["batch"],))
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=4e-5)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    times = []
    for i in range(job["warmup"] + job["steps"]):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        dt = time.perf_counter() - t0
        if i >= job["warmup"]:
            times.append(dt)
    return statistics.median(times)


def main():
    job = json.load(sys.stdin)
    torch.set_num_threads(job["threads"])
    results = {fmt: measure(job, fmt == "channels_last") for fmt in ("nchw", "channels_last")}
    best = min(results, key=results.get)
    print(json.dumps({
        "imagesPerSecond": job["batch"] / results[best],
        "medianStepMs": results[best] * 1000,
        "format": best,
        "nchwStepMs": results["nchw"] * 1000,
        "channelsLastStepMs": results["channels_last"] * 1000,
        "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "torchVersion": torch.__version__,
    }))


main()
