#!/usr/bin/env bash
# Runs the reference Python AutoRound (intel/auto-round, used from source) on the
# aidreams260K test model, for the schemes and recipes that jround is compared against.
#
# Usage: tools/bench/reference_autoround.sh [SCHEMES] [RECIPES]
#   SCHEMES: space-separated subset of "W4G32 W3G32 W2G32" (default: all)
#   RECIPES: space-separated subset of "rtn optrtn light default best" (default: all)
#
# Environment (defaults are the ones used for the recorded numbers):
#   PY        python of a venv with torch (CPU), transformers, accelerate, datasets, pydantic, py-cpuinfo
#   AR_SRC    checkout of intel/auto-round (commit b9f3d0079d014c73a1ff009800c597b9bc3f2a36)
#   MODEL     model directory (fp32 HF Llama)
#   OUT       where each result goes: $OUT/<scheme>-<recipe>/ (a plain HF model dir, "fake" format)
#
# Every run: CPU, fp32 (--disable_amp, --model_dtype float32), no torch.compile, seed 42,
# seqlen 128, batch size 8, calibration = $MODEL/calib.jsonl, format fake, symmetric int
# weights with group size 32. Layers whose in/out size is not divisible by 32 (the 172-wide
# MLP) stay in float: that is the reference default and is kept.
# Wall time and peak RSS come from /usr/bin/time -v (whole process); the log line
# "quantization tuning time" (when printed) gives the quantization part.
set -euo pipefail

PY=${PY:-/work/pyenv/bin/python}
AR_SRC=${AR_SRC:-/work/auto-round-src}
MODEL=${MODEL:-/work/shared/models/aidreams260K}
OUT=${OUT:-/work/bench/ref}
SCHEMES=${1:-"W4G32 W3G32 W2G32"}
RECIPES=${2:-"rtn optrtn light default best"}

mkdir -p "$OUT/logs"
export PYTHONPATH="$AR_SRC${PYTHONPATH:+:$PYTHONPATH}"
export TOKENIZERS_PARALLELISM=false

for scheme in $SCHEMES; do
  case $scheme in
    W4G32) bits=4 ;;
    W3G32) bits=3 ;;
    W2G32) bits=2 ;;
    *) echo "unknown scheme $scheme" >&2; exit 1 ;;
  esac
  for recipe in $RECIPES; do
    nsamples=128
    case $recipe in
      rtn)     rargs="--iters 0 --disable_opt_rtn" ;;
      optrtn)  rargs="--iters 0" ;;
      light)   rargs="--iters 50 --lr 5e-3" ;;
      default) rargs="--iters 200" ;;
      best)    rargs="--iters 1000"; nsamples=512 ;;
      *) echo "unknown recipe $recipe" >&2; exit 1 ;;
    esac
    name="$scheme-$recipe"
    dest="$OUT/$name"
    tmp="$OUT/.tmp-$name"
    work=$(mktemp -d)   # auto-round writes ar_work_space/ into the cwd
    rm -rf "$tmp" "$dest"
    cmd="$PY -m auto_round --model $MODEL --scheme W4A16 --bits $bits --group_size 32 $rargs \
--nsamples $nsamples --seqlen 128 --batch_size 8 --seed 42 --dataset $MODEL/calib.jsonl \
--format fake --disable_amp --disable_torch_compile --model_dtype float32 --device_map cpu \
--output_dir $tmp"
    echo "== $name: $cmd"
    echo "$cmd" > "$OUT/logs/$name.cmd"
    (cd "$work" && /usr/bin/time -v -o "$OUT/logs/$name.time" $cmd) > "$OUT/logs/$name.log" 2>&1
    # the CLI writes into $tmp/<model name>-w<bits>g32/; move that to $dest
    sub=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d | head -1)
    mv "$sub" "$dest"
    rm -rf "$tmp" "$work"
    grep -E "Elapsed|Maximum resident" "$OUT/logs/$name.time"
    grep -aE "quantization tuning time|valid samples count" "$OUT/logs/$name.log" | sed 's/\x1b\[[0-9;]*m//g' || true
  done
done
