#!/usr/bin/env python3
"""Reads a dequant_fp16 export with the safetensors library (numpy) and checks it against its source model.

usage: verify.py EXPORT_DIR SOURCE_MODEL_DIR

Checks: every tensor of the source is there with its shape and in float16; config.json says float16 and has no
quantization_config; each layer listed in dequant_fp16.json holds at most 2^bits distinct values per group
of group_size along a row (what the scheme's integer grid allows) and stays close to the source weight.
"""
import json
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file


def main(export_dir, source_dir):
    out = load_file(str(Path(export_dir) / "model.safetensors"))
    src = load_file(str(Path(source_dir) / "model.safetensors"))
    config = json.loads((Path(export_dir) / "config.json").read_text())
    summary = json.loads((Path(export_dir) / "dequant_fp16.json").read_text())
    assert config["torch_dtype"] == "float16" and "quantization_config" not in config, config
    assert set(out) == set(src), sorted(set(out) ^ set(src))
    for name, t in out.items():
        assert t.dtype == np.float16, (name, t.dtype)
        assert t.shape == src[name].shape, (name, t.shape, src[name].shape)
    layers = summary["quantized_layers"]
    assert layers, "no quantized layers recorded"
    for module, scheme in layers.items():
        w = out[module + ".weight"].astype(np.float32)
        rows, cols = w.shape
        g = scheme["group_size"] if 0 < scheme["group_size"] < cols else cols
        worst = 0
        for start in range(0, cols, g):
            group = w[:, start:start + g]
            worst = max(worst, max(len(np.unique(r)) for r in group))
        assert worst <= 2 ** scheme["bits"], (module, worst, scheme)
        ref = src[module + ".weight"].astype(np.float32)
        rel = np.linalg.norm(w - ref) / np.linalg.norm(ref)
        assert rel < 0.5, (module, rel)
    print(f"verify.py: {len(out)} float16 tensors, {len(layers)} quantized layers on their "
          f"{layers[next(iter(layers))]['bits']}-bit grid; safetensors {__import__('safetensors').__version__}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
