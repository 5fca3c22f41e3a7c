#!/usr/bin/env bash
# End-to-end checks of the built product (distribution/target/jround) on ../shared/models.
# Called by .ci/run after the test suite; every step must succeed.
set -euo pipefail
cd "$(dirname "$0")/../.."
J=distribution/target/jround/bin
M=../shared/models/aidreams260K
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
export JROUND_THREADS=${JROUND_THREADS:-1}

step() { printf '\n== %s\n' "$*"; }

step "plugins are discovered from plugins/"
$J/jround plugins | tee "$OUT/plugins.txt"
grep -q "signround" "$OUT/plugins.txt"
grep -q "gguf" "$OUT/plugins.txt"

step "a bad flag is one clear line and exit code 2"
set +e
$J/jround quantize --model "$M" --no_such_flag 2> "$OUT/err.txt"; code=$?
set -e
cat "$OUT/err.txt"
[ "$code" -eq 2 ]
grep -q "^error:" "$OUT/err.txt"

step "auto-round-light: SignRound W4G32 to auto_round, auto_gptq and fake in one pass"
$J/auto-round-light --model "$M" --scheme W4A16 --group_size 32 --seqlen 128 --nsamples 64 \
  --dataset "$M/calib.jsonl" --format auto_round,auto_gptq,fake --output_dir "$OUT/q"
for f in auto-round auto-gptq fake; do
  test -f "$OUT/q/aidreams260K-w4g32/$f/config.json"
done
if ls -d "$OUT"/q/*.partial 2>/dev/null; then echo "a .partial directory was left behind"; exit 1; fi

step "each export loads back and evaluates against the full-precision model"
for f in fake auto-round auto-gptq; do
  $J/jround eval --model "$OUT/q/aidreams260K-w4g32/$f" --reference "$M" --data "$M/calib_ids.json" \
    --report "$OUT/eval-$f.json"
done
kld() { sed -n 's/.*"mean_kld" *: *\([0-9.eE+-]*\).*/\1/p' "$1" | head -1; }
a=$(kld "$OUT/eval-fake.json"); b=$(kld "$OUT/eval-auto-round.json"); c=$(kld "$OUT/eval-auto-gptq.json")
echo "mean KLD: fake $a, auto_round $b, auto_gptq $c"
[ "$a" = "$b" ] && [ "$a" = "$c" ]

step "optimized RTN straight to GGUF q4_k_m, then inspect"
$J/jround quantize --model "$M" --iters 0 --seqlen 128 --nsamples 32 --dataset "$M/calib.jsonl" \
  --format gguf:q4_k_m --output_dir "$OUT/g"
G=$(ls "$OUT"/g/*/*.gguf | head -1)
$J/jround inspect "$G" | head -30
$J/jround eval --model "$G" --reference "$M" --data "$M/calib_ids.json"

step "MLX (plugin export-mlx): one W5G32 pass to fake, mlx and auto_round:mlx; both MLX checkpoints evaluate like fake"
$J/jround quantize --model "$M" --bits 5 --group_size 32 --iters 0 --seqlen 128 --nsamples 16 --dataset "$M/calib.jsonl" \
  --format fake,mlx,auto_round:mlx --output_dir "$OUT/m"
for d in "$OUT"/m/aidreams260K-w5g32/*/; do
  $J/jround eval --model "$d" --reference "$M" --data "$M/calib_ids.json" --limit 16 --report "$OUT/eval-mlx-$(basename "$d").json"
done
ls "$OUT"/eval-mlx-*.json | while read -r r; do kld "$r"; done | sort -u | awk 'END { if (NR != 1) { print "MLX KLD differs from fake"; exit 1 } }'

step "generation from the quantized model"
$J/jround generate --model "$OUT/q/aidreams260K-w4g32/auto-round" --prompt "I dreamed" --max_new_tokens 20

echo
echo "end-to-end checks passed"
