#!/usr/bin/env bash
# Benchmarks jround on aidreams260K: quantize each (scheme, recipe) with the fake format under
# /usr/bin/time -v (wall time, CPU time, peak RSS), then evaluate the output against the fp32 model
# (perplexity, mean KL divergence, top-1 agreement over calib_ids.json). Runs are sequential on purpose:
# the timings are only comparable when nothing else of ours competes for the cores.
#
# Usage: tools/bench/jround_bench.sh [SCHEME-RECIPE ...]
#   no arguments: every scheme of W4G32 W3G32 W2G32 with rtn, opt-rtn, light, default, then the 'best'
#   runs last (the longest). Example: tools/bench/jround_bench.sh W4G32-default W2G32-light
# Environment:
#   JROUND_LAUNCHER  launcher to run (default: <repo>/distribution/target/jround/bin/jround)
#   JROUND_CP        class path used with plain java when the launcher is missing
#   JROUND_SHARED    shared data folder (default: <repo>/../shared)
#   BENCH_DIR        where outputs, logs and results.tsv go (default: /work/bench/jround)
#   THREADS          libtorch intra-op threads and OMP_NUM_THREADS (default: 1)
#   SEED             --seed of every run (default: 42)
#   TAG              suffix for the output folder names, e.g. -t2 for a second thread count
set -euo pipefail

repo="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
shared="$(readlink -f "${JROUND_SHARED:-$repo/../shared}")"
model="$shared/models/aidreams260K"
bench_dir="${BENCH_DIR:-/work/bench/jround}"
threads="${THREADS:-1}"
seed="${SEED:-42}"
tag="${TAG:-}"
launcher="${JROUND_LAUNCHER:-$repo/distribution/target/jround/bin/jround}"

[[ -d "$model" ]] || { echo "model folder $model not found: set JROUND_SHARED" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time is missing: apt-get install -y time" >&2; exit 2; }

export DJL_OFFLINE=true OMP_NUM_THREADS="$threads"
thread_props=("-Dai.djl.pytorch.num_threads=$threads" "-Dai.djl.pytorch.num_interop_threads=1")
if [[ -x "$launcher" ]]; then
  export JAVA_OPTS="${JAVA_OPTS:-} ${thread_props[*]}"
  jround=("$launcher")
elif [[ -n "${JROUND_CP:-}" ]]; then
  jround=(java "${thread_props[@]}" -Dai.djl.offline=true -cp "$JROUND_CP" dev.jround.cli.JroundCli)
else
  echo "no launcher at $launcher and JROUND_CP is unset: build the distribution module" \
    "or set JROUND_CP to a class path holding jround-cli and the plugins" >&2
  exit 2
fi

recipe_args() {
  case "$1" in
    rtn) echo "--iters 0 --disable_opt_rtn --nsamples 128" ;;
    opt-rtn) echo "--iters 0 --nsamples 128" ;;
    light) echo "--iters 50 --lr 5e-3 --nsamples 128" ;;
    default) echo "--iters 200 --nsamples 128" ;;
    best) echo "--iters 1000 --nsamples 512" ;;
    *) echo "unknown recipe '$1' (valid: rtn opt-rtn light default best)" >&2; return 2 ;;
  esac
}

scheme_bits() {
  case "$1" in
    W4G32) echo 4 ;;
    W3G32) echo 3 ;;
    W2G32) echo 2 ;;
    *) echo "unknown scheme '$1' (valid: W4G32 W3G32 W2G32)" >&2; return 2 ;;
  esac
}

# value of a "Label: value" line of /usr/bin/time -v output
time_field() { grep -F "$1" "$2" | sed 's/.*: //'; }

# number of a top-level "key" : number entry of the eval report
json_number() { grep -E "^\s*\"$1\"\s*:" "$2" | sed -E 's/.*:\s*([-0-9.eE+]+).*/\1/'; }

# "h:mm:ss" or "m:ss.ss" to seconds
to_seconds() { awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.1f", s }' <<<"$1"; }

run_one() {
  local scheme="$1" recipe="$2" bits args out log
  bits="$(scheme_bits "$scheme")"
  args="$(recipe_args "$recipe")"
  out="$bench_dir/$scheme-$recipe$tag"
  rm -rf "$out"
  mkdir -p "$out"
  log="$out/quantize.log"
  # shellcheck disable=SC2086  # args is a list of options
  local cmd=("${jround[@]}" quantize --model "$model" --scheme W4A16 --bits "$bits" --group_size 32 $args
    --seqlen 128 --batch_size 8 --seed "$seed" --dataset "$model/calib.jsonl" --format fake --output_dir "$out")
  echo "== $scheme $recipe (threads $threads, seed $seed): ${cmd[*]}"
  printf '%q ' "${cmd[@]}" >"$out/command.txt"
  /usr/bin/time -v -o "$out/time.txt" "${cmd[@]}" >"$log" 2>&1 \
    || { echo "quantize failed, see $log" >&2; tail -5 "$log" >&2; return 1; }

  local exported
  exported="$(dirname "$(find "$out" -mindepth 2 -maxdepth 2 -name config.json | head -1)")"
  "${jround[@]}" eval --model "$exported" --reference "$model" --data "$model/calib_ids.json" \
    --report "$out/eval.json" >"$out/eval.log" 2>&1 \
    || { echo "eval failed, see $out/eval.log" >&2; return 1; }

  local wall cpu rss ppl kld top1
  wall="$(to_seconds "$(time_field 'Elapsed (wall clock)' "$out/time.txt")")"
  cpu="$(awk -v u="$(time_field 'User time' "$out/time.txt")" -v s="$(time_field 'System time' "$out/time.txt")" \
    'BEGIN { printf "%.1f", u + s }')"
  rss="$(awk -v k="$(time_field 'Maximum resident set size' "$out/time.txt")" 'BEGIN { printf "%.0f", k / 1024 }')"
  ppl="$(json_number perplexity "$out/eval.json")"
  kld="$(json_number mean_kld "$out/eval.json")"
  top1="$(json_number top1_agreement "$out/eval.json")"
  printf '%s\t%s\t%s\t%s\t%.4f\t%.5f\t%.4f\t%s\t%s\t%s\t%s\n' "$scheme" "$recipe" "$threads" "$seed" "$ppl" "$kld" \
    "$top1" "$wall" "$cpu" "$rss" "$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$bench_dir/results.tsv"
}

mkdir -p "$bench_dir"
[[ -f "$bench_dir/results.tsv" ]] \
  || printf 'scheme\trecipe\tthreads\tseed\tppl\tmean_kld\ttop1\twall_s\tcpu_s\tpeak_rss_mb\tload_after\n' \
    >"$bench_dir/results.tsv"

runs=("$@")
if [[ ${#runs[@]} -eq 0 ]]; then
  for recipe in rtn opt-rtn light default; do
    for scheme in W4G32 W3G32 W2G32; do runs+=("$scheme-$recipe"); done
  done
  for scheme in W4G32 W3G32 W2G32; do runs+=("$scheme-best"); done
fi
for run in "${runs[@]}"; do
  run_one "${run%%-*}" "${run#*-}"
done
