"""PyTorch side of `cream bench latency`: batch-1 inference of the same child network, timed the same
way (median of `runs` after `warmup`). Reads a JSON job on stdin:
{"network": <describeNetwork output>, "runs": 200, "warmup": 20, "threads": 1}
and prints one JSON line: the best of NCHW and channels_last in eval mode under no_grad, and, as a
stronger reference, the same with conv+BN folded by torch.fx (null if fx cannot trace it)."""
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
from torch_net import Net  # noqa: E402


def measure(model, x, runs, warmup):
    with torch.no_grad():
        for _ in range(warmup):
            model(x)
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def main():
    job = json.load(sys.stdin)
    torch.set_num_threads(job["threads"])
    torch.manual_seed(0)
    net = Net(job["network"]).eval()
    c, h, w = job["network"]["input"]
    x = torch.randn(1, c, h, w)
    runs, warmup = job["runs"], job["warmup"]
    results = {"nchw": measure(net, x, runs, warmup)}
    net_cl = net.to(memory_format=torch.channels_last)
    results["channels_last"] = measure(net_cl, x.contiguous(memory_format=torch.channels_last), runs, warmup)
    best = min(results, key=results.get)
    fused_ms = None
    try:
        from torch.fx.experimental.optimization import fuse

        fused = fuse(Net(job["network"]).eval())
        if best == "channels_last":
            fused = fused.to(memory_format=torch.channels_last)
            fused_ms = measure(fused, x.contiguous(memory_format=torch.channels_last), runs, warmup)
        else:
            fused_ms = measure(fused, x, runs, warmup)
    except Exception as e:  # noqa: BLE001 - a missing reference is reported as null
        print(f"fx fuse failed: {e}", file=sys.stderr)
    print(json.dumps({
        "medianMs": results[best],
        "format": best,
        "nchwMs": results["nchw"],
        "channelsLastMs": results["channels_last"],
        "fusedMs": fused_ms,
        "torchVersion": torch.__version__,
    }))


main()
