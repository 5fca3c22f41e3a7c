#!/usr/bin/env python3
"""Perplexity / KL divergence / top-1 agreement of HF causal LMs against a full-precision reference.

Usage:
  eval_hf.py --ref FP_MODEL_DIR --ids calib_ids.json [--json OUT.json] [NAME=MODEL_DIR ...]
  eval_hf.py --ref FP_MODEL_DIR --ids calib_ids.json --bench-dir DIR
    (DIR as written by reference_autoround.sh: DIR/<scheme>-<recipe>/ model dirs and
     DIR/logs/<name>.{cmd,log,time}; writes DIR/results.json and DIR/results.md)

ids file: a JSON list of token-id lists (here 256 x 128, BOS first). For every sequence the
logits at positions 0..L-2 predict tokens 1..L-1, so each sequence gives L-1 scored positions.
  PPL      = exp(mean NLL of the scored tokens)
  mean KLD = mean over scored positions of KL(P_fp || P_q) = sum_v p_fp(v) (log p_fp(v) - log p_q(v))
  top-1    = fraction of scored positions where argmax P_q == argmax P_fp
Log-softmax is taken in float64 (the models run in float32 on the CPU).
The reference model itself is always evaluated too (as "fp": KLD 0, top-1 1).
"""
import argparse
import json
import math
import os
import re

import torch
from transformers import AutoModelForCausalLM


def load(path):
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    model.eval()
    return model


@torch.no_grad()
def logprobs(model, ids, bs):
    out = []
    for i in range(0, ids.shape[0], bs):
        x = ids[i : i + bs]
        logits = model(input_ids=x, attention_mask=torch.ones_like(x)).logits[:, :-1, :]
        out.append(torch.log_softmax(logits.double(), dim=-1))
    return torch.cat(out)  # [N, L-1, V]


def metrics(lp_ref, lp_q, targets):
    nll = -lp_q.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    kld = (lp_ref.exp() * (lp_ref - lp_q)).sum(-1)
    top1 = (lp_ref.argmax(-1) == lp_q.argmax(-1)).double()
    return {
        "ppl": math.exp(nll.mean().item()),
        "mean_nll": nll.mean().item(),
        "mean_kld": kld.mean().item(),
        "top1_agreement": top1.mean().item(),
        "positions": int(nll.numel()),
    }


SCHEMES = ["W4G32", "W3G32", "W2G32"]
RECIPES = ["rtn", "optrtn", "light", "default", "best"]
METRIC_KEYS = ["ppl", "mean_nll", "mean_kld", "top1_agreement", "positions"]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run_info(logdir, name):
    """Wall/CPU time and peak RSS (from /usr/bin/time -v), tuning time and samples (from the log)."""
    info = {}
    with open(os.path.join(logdir, name + ".cmd")) as f:
        info["command"] = f.read().strip()
    with open(os.path.join(logdir, name + ".time")) as f:
        t = f.read()
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t)
    secs = 0.0
    for part in m.group(1).split(":"):
        secs = secs * 60 + float(part)
    info["wall_s"] = round(secs, 2)
    user = float(re.search(r"User time \(seconds\): (\S+)", t).group(1))
    sys_ = float(re.search(r"System time \(seconds\): (\S+)", t).group(1))
    info["cpu_s"] = round(user + sys_, 2)
    info["peak_rss_mb"] = round(int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024, 1)
    with open(os.path.join(logdir, name + ".log"), errors="replace") as f:
        log = ANSI.sub("", f.read())
    m = re.search(r"quantization tuning time ([0-9.]+)", log)
    info["tuning_s"] = round(float(m.group(1)), 2) if m else None
    cmd = info["command"]
    nsamples = int(re.search(r"--nsamples (\d+)", cmd).group(1))
    m = re.search(r"valid samples count is (\d+)", log)
    if "Zero-shot mode" in log:
        info["samples_used"] = 0  # plain RTN: no calibration data is read
    elif m:
        info["samples_used"] = int(m.group(1))
    else:
        info["samples_used"] = nsamples
    info["nsamples_requested"] = nsamples
    return info


def bench_dir(a, ids, lp_ref, targets, fp_metrics):
    logdir = os.path.join(a.bench_dir, "logs")
    names = sorted(
        d for d in os.listdir(a.bench_dir) if os.path.isfile(os.path.join(a.bench_dir, d, "config.json"))
    )
    old = {}
    res_path = os.path.join(a.bench_dir, "results.json")
    if a.reuse and os.path.exists(res_path):
        with open(res_path) as f:
            old = {f"{r['scheme']}-{r['recipe']}": r for r in json.load(f)["runs"]}
    rows = []
    for name in names:
        scheme, recipe = name.split("-", 1)
        r = {"scheme": scheme, "recipe": recipe}
        if name in old:  # --reuse: metrics of a model already evaluated
            r.update({k: old[name][k] for k in METRIC_KEYS})
        else:
            r.update(metrics(lp_ref, logprobs(load(os.path.join(a.bench_dir, name)), ids, a.bs), targets))
        r.update(run_info(logdir, name))
        print(f"{name}: {r}", flush=True)
        rows.append(r)
    def order(r):
        s, rc = r["scheme"], r["recipe"]
        return (SCHEMES.index(s) if s in SCHEMES else 99, RECIPES.index(rc) if rc in RECIPES else 99)

    rows.sort(key=order)
    out = {"fp": fp_metrics, "runs": rows}
    with open(os.path.join(a.bench_dir, "results.json"), "w") as f:
        json.dump(out, f, indent=2)
    lines = [
        f"fp32 reference: PPL {fp_metrics['ppl']:.4f} over {fp_metrics['positions']} positions",
        "",
        "| scheme | recipe | PPL | mean KLD | top-1 agreement | wall time (s) | tuning time (s) | CPU time (s) "
        "| peak RSS (MB) | samples used | exact command |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        tuning = f"{r['tuning_s']:.1f}" if r["tuning_s"] is not None else "-"
        lines.append(
            f"| {r['scheme']} | {r['recipe']} | {r['ppl']:.4f} | {r['mean_kld']:.5f} | {r['top1_agreement']:.4f} "
            f"| {r['wall_s']:.1f} | {tuning} | {r['cpu_s']:.1f} | {r['peak_rss_mb']:.0f} | {r['samples_used']} "
            f"| `{r['command']}` |"
        )
    with open(os.path.join(a.bench_dir, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref", required=True)
    ap.add_argument("--ids", required=True)
    ap.add_argument("--json")
    ap.add_argument("--bs", type=int, default=32)
    ap.add_argument("--bench-dir")
    ap.add_argument("--reuse", action="store_true", help="with --bench-dir: keep metrics already in results.json")
    ap.add_argument("models", nargs="*", help="NAME=MODEL_DIR")
    a = ap.parse_args()

    torch.manual_seed(0)
    with open(a.ids) as f:
        ids = torch.tensor(json.load(f), dtype=torch.long)
    targets = ids[:, 1:]
    lp_ref = logprobs(load(a.ref), ids, a.bs)
    results = {"fp": metrics(lp_ref, lp_ref, targets)}
    print(f"fp: {results['fp']}", flush=True)
    if a.bench_dir:
        bench_dir(a, ids, lp_ref, targets, results["fp"])
        return
    for spec in a.models:
        name, path = spec.split("=", 1)
        results[name] = metrics(lp_ref, logprobs(load(path), ids, a.bs), targets)
        results[name]["path"] = path
        print(f"{name}: {results[name]}", flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
