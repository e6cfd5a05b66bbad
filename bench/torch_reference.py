"""PyTorch side of bench/ops.ts: builds each case of the JSON list on stdin as the same op in PyTorch
and measures forward (no_grad) and forward+backward GFLOP/s, median over runs after warm-up, with
the best of NCHW and channels_last (convs, BN, activations, blocks); fwdBwdGflopsBest is from the
fastest single run. FLOP counts come from the case list so both engines are scored identically.
Prints one JSON object: {"torch": version, "threads": n, "add8Us": us, "results":
[{"fwdGflops", "fwdBwdGflops", "fwdBwdGflopsBest", "layout"} | {"error"}]}.

Usage: python3 bench/torch_reference.py [--runs 10] [--warmup 3] [--threads 2] < cases.json
       python3 bench/torch_reference.py --serve ...   (one case per line, one result per line)
"""

import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F


# Minimum warm-up and timed durations, the same rule as bench/ops.ts (sub-millisecond ops need
# more than a handful of calls for a stable median).
MIN_WARMUP_MS = 100
MIN_TIMED_MS = 100
MAX_TIMED_RUNS = 1000


def time_ms(fn, runs, warmup):
    """(median, fastest) wall time in ms: at least `warmup` untimed calls (and MIN_WARMUP_MS), then
    at least `runs` timed calls (and MIN_TIMED_MS, up to MAX_TIMED_RUNS)."""
    warm_start = time.perf_counter()
    i = 0
    while i < warmup or (time.perf_counter() - warm_start) * 1e3 < MIN_WARMUP_MS:
        fn()
        i += 1
    times = []
    total = 0.0
    while len(times) < runs or (total < MIN_TIMED_MS and len(times) < MAX_TIMED_RUNS):
        t0 = time.perf_counter()
        fn()
        dt = (time.perf_counter() - t0) * 1e3
        times.append(dt)
        total += dt
    return statistics.median(times), min(times)


ACTS = {
    "none": lambda t: t,
    "relu": F.relu,
    "relu6": F.relu6,
    "swish": F.silu,
    "hardSigmoid": F.hardsigmoid,
    "sigmoid": torch.sigmoid,
}


def bn_layer(c):
    return torch.nn.BatchNorm2d(c, momentum=0.1, eps=1e-5).train()


def build(case, channels_last):
    """Returns (module, input) for a case; the module's parameters require grad."""
    kind = case["kind"]
    shape = case["shape"]
    if kind == "linear":
        n, fin = shape
        return torch.nn.Linear(fin, case["cout"], bias=case.get("bias", True)), torch.randn(n, fin)
    n, h, w, c = shape
    x = torch.randn(n, c, h, w)
    if kind in ("pointwise", "dense", "depthwise"):
        k = case["k"]
        m = torch.nn.Conv2d(
            c, case["cout"], k, stride=case["stride"], padding=case["padding"], groups=case["groups"], bias=case.get("bias", False)
        )
    elif kind == "bn":
        m = torch.nn.Sequential(bn_layer(c), Act(case["act"]))
    elif kind == "activation":
        m = Act(case["act"])
    elif kind == "block":
        mid, k = c * case["expand"], case["k"]
        m = torch.nn.Sequential(
            torch.nn.Conv2d(c, mid, 1, bias=False),
            bn_layer(mid),
            torch.nn.ReLU6(),
            torch.nn.Conv2d(mid, mid, k, padding=k // 2, groups=mid, bias=False),
            bn_layer(mid),
            torch.nn.ReLU6(),
            torch.nn.Conv2d(mid, c, 1, bias=False),
            bn_layer(c),
        )
    else:
        raise ValueError(f"unknown kind {kind}")
    if channels_last:
        m = m.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    return m, x


class Act(torch.nn.Module):
    def __init__(self, name):
        super().__init__()
        self.fn = ACTS[name]

    def forward(self, t):
        return self.fn(t)


def measure(case, channels_last, runs, warmup):
    m, x = build(case, channels_last)
    x.requires_grad_(case["xGrad"])
    params = [p for p in m.parameters()]
    with torch.no_grad():
        gy = torch.full_like(m(x), 1e-3)

    def fwd():
        with torch.no_grad():
            m(x)

    def fwd_bwd():
        for p in params:
            p.grad = None
        x.grad = None
        m(x).backward(gy)

    fwd_ms, _ = time_ms(fwd, runs, warmup)
    fwd_bwd_ms, fwd_bwd_best = time_ms(fwd_bwd, runs, warmup)
    return case["fwdFlops"] / fwd_ms / 1e6, case["fwdBwdFlops"] / fwd_bwd_ms / 1e6, case["fwdBwdFlops"] / fwd_bwd_best / 1e6


def add8_us():
    a, b = torch.ones(8), torch.ones(8)
    n = 100_000
    for _ in range(n // 10):
        a + b
    t0 = time.perf_counter()
    for _ in range(n):
        a + b
    return (time.perf_counter() - t0) * 1e6 / n


def measure_best(case, runs, warmup):
    """Best layout for one case (or the one named by case["layout"]); an error result instead of an
    exception (one bad case must not lose the rest)."""
    try:
        if "layout" in case:
            layouts = [case["layout"] == "channels_last"]
        else:
            layouts = [False] if case["kind"] == "linear" else [False, True]
        best = {"fwdGflops": 0.0, "fwdBwdGflops": 0.0, "fwdBwdGflopsBest": 0.0, "layout": None}
        for cl in layouts:
            fwd, fwd_bwd, fwd_bwd_best = measure(case, cl, runs, warmup)
            best["fwdGflops"] = max(best["fwdGflops"], fwd)
            best["fwdBwdGflopsBest"] = max(best["fwdBwdGflopsBest"], fwd_bwd_best)
            if fwd_bwd > best["fwdBwdGflops"]:
                best["fwdBwdGflops"] = fwd_bwd
                best["layout"] = "channels_last" if cl else "nchw"
        return best
    except Exception as e:
        return {"error": f"{type(e).__name__}: {e}"}


def serve(args):
    """Line protocol: one case (JSON) per stdin line -> one result per stdout line; "add8" -> {"add8Us"}.
    Lets bench/ops.ts measure each case right after its own run, so both see the same machine load."""
    print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        if line == '"add8"':
            print(json.dumps({"add8Us": add8_us()}), flush=True)
        else:
            print(json.dumps(measure_best(json.loads(line), args.runs, args.warmup)), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--serve", action="store_true", help="one case per line instead of a JSON list")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.serve:
        serve(args)
        return
    results = [measure_best(case, args.runs, args.warmup) for case in json.load(sys.stdin)]
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "add8Us": add8_us(), "results": results}))


if __name__ == "__main__":
    main()
