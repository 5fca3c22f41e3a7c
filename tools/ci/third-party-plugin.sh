#!/usr/bin/env bash
# The third-party plugin in examples/third-party-plugin, end to end: built outside the reactor against the
# published jround-spi and jround-lib-* (hf-packed, safetensors), dropped into a copy of the product (distribution/target/jround stays untouched),
# then used by the CLI (listed, format and preset shown, a quantize of ../shared/models/aidreams260K
# exported with them) and hot-installed into and removed from a running jround-host.
# Called by .ci/run after the reactor build; needs distribution/target/jround and jround-spi, jround-lib-hf-packed (with its test-jar) and jround-lib-safetensors in ~/.m2.
# PYTHON (default /work/pyenv/bin/python, else python3) with numpy + safetensors adds the Python reader check.
set -euo pipefail
cd "$(dirname "$0")/../.."
EX=examples/third-party-plugin
JAR=$EX/target/jround-dequant-fp16-1.0.0.jar
M=../shared/models/aidreams260K
PRODUCT=distribution/target/jround
OUT=$(mktemp -d)
HOST_PID=
cleanup() {
  if [ -n "$HOST_PID" ] && kill -0 "$HOST_PID" 2>/dev/null; then kill "$HOST_PID"; wait "$HOST_PID" 2>/dev/null || true; fi
  rm -rf "$OUT"
}
trap cleanup EXIT
export JROUND_THREADS=${JROUND_THREADS:-1}

step() { printf '\n== %s\n' "$*"; }
# wait_for SECONDS FILE PATTERN [absent]: polls until FILE has (or, with "absent", no longer has) PATTERN
# in its last plugin table
wait_for() {
  local deadline=$((SECONDS + $1)) file=$2 pattern=$3 mode=${4:-present}
  while [ $SECONDS -lt $deadline ]; do
    local last
    last=$(awk '/^== plugins in /{t=""} {t=t $0 "\n"} END{printf "%s", t}' "$file")
    if [[ $mode == present ]] && grep -q "plugins$" <<<"$last" && grep -Eq "$pattern" <<<"$last"; then return 0; fi
    if [[ $mode == absent ]] && grep -q "plugins$" <<<"$last" && ! grep -Eq "$pattern" <<<"$last"; then return 0; fi
    sleep 0.2
  done
  echo "timed out after $1 s waiting for '$pattern' to be $mode in $file:"; cat "$file"; return 1
}

[ -x $PRODUCT/bin/jround ] || { echo "$PRODUCT not built: run the reactor build first"; exit 1; }

step "build the example outside the reactor (published jround-spi and jround-lib-* only)"
rm -f "$JAR"
mvn -B -ntp -q -f $EX/pom.xml package
ls -l "$JAR"

step "a product copy with the plugin in plugins/ (bin and plugins copied, lib linked)"
P=$OUT/jround
mkdir -p "$P"
cp -r $PRODUCT/bin $PRODUCT/plugins "$P/"
ln -s "$(cd $PRODUCT/lib && pwd)" "$P/lib"
cp "$JAR" "$P/plugins/"

step "jround plugins lists both plugins of the jar with the jar's version"
"$P/bin/jround" plugins | tee "$OUT/plugins.txt" | grep "jround-dequant-fp16"
grep -Eq "^exporter +dequant_fp16 +1\.0\.0 +jround-dequant-fp16-1\.0\.0\.jar" "$OUT/plugins.txt"
grep -Eq "^scheme +example-presets +1\.0\.0 +jround-dequant-fp16-1\.0\.0\.jar" "$OUT/plugins.txt"

step "jround list format shows dequant_fp16; jround list scheme shows EXAMPLE_W3G64 (3 bits, group 64, asym)"
"$P/bin/jround" list format | grep -E "^dequant_fp16 .*\[dequant_fp16 1\.0\.0\]$"
"$P/bin/jround" list scheme | grep -E "^EXAMPLE_W3G64 +3 +64 +asym +int .*\[example-presets 1\.0\.0\]$"

step "quantize aidreams260K with the preset, exported in the format"
"$P/bin/jround" quantize --model "$M" --scheme EXAMPLE_W3G64 --format dequant_fp16 --iters 10 --nsamples 16 \
  --seqlen 64 --dataset "$M/calib.jsonl" --output_dir "$OUT/q" 2>&1 | tail -4
Q=$OUT/q/aidreams260K-w3g64
for f in model.safetensors config.json dequant_fp16.json tokenizer.json; do test -f "$Q/$f"; done
grep -q '"torch_dtype": "float16"' "$Q/config.json"
if grep -q quantization_config "$Q/config.json"; then echo "config.json must not have quantization_config"; exit 1; fi
# the preset reached the exporter: every quantized layer is recorded as int W3 g64 asym
grep -A4 '"model.layers.0.self_attn.q_proj"' "$Q/dequant_fp16.json" | tr -d ' \n' \
  | grep -q '"bits":3,"group_size":64,"sym":false,"data_type":"int"'

step "the export loads back: jround's safetensors reader evaluates it against the float model"
"$P/bin/jround" eval --model "$Q" --reference "$M" --data "$M/calib_ids.json" --report "$OUT/eval.json" 2>&1 | tail -2
kld=$(sed -n 's/.*"mean_kld" *: *\([0-9.eE+-]*\).*/\1/p' "$OUT/eval.json" | head -1)
awk -v k="$kld" 'BEGIN { exit !(k > 0 && k < 0.5) }' || { echo "mean KLD $kld out of range"; exit 1; }

step "the Python safetensors library reads it (float16 tensors on the scheme's grid)"
PY=${PYTHON:-$( [ -x /work/pyenv/bin/python ] && echo /work/pyenv/bin/python || echo python3 )}
if "$PY" -c 'import numpy, safetensors' 2>/dev/null; then
  "$PY" $EX/verify.py "$Q" "$M"
else
  echo "skipped: $PY has no numpy + safetensors (set PYTHON to a Python that has them)"
fi

step "jround-host: the same jar hot-installs into a running host, and uninstalls"
HP=$OUT/host-plugins
mkdir -p "$HP"
cp $PRODUCT/plugins/*.jar "$HP/"
: > "$OUT/host.log" # exists before the background job's redirection does
JAVA_OPTS="${JAVA_OPTS:-} -Djround.host.poll.ms=200" "$P/bin/jround-host" "$HP" > "$OUT/host.log" 2>&1 &
HOST_PID=$!
wait_for 60 "$OUT/host.log" "^exporter +fake "
cp "$JAR" "$HP/"
wait_for 30 "$OUT/host.log" "^exporter +dequant_fp16 +1\.0\.0 +jround-dequant-fp16-1\.0\.0\.jar \[bundle [0-9]+\]"
wait_for 5 "$OUT/host.log" "^scheme +example-presets +1\.0\.0 +jround-dequant-fp16-1\.0\.0\.jar \[bundle [0-9]+\]"
grep "jround-dequant-fp16" "$OUT/host.log" | tail -2
rm "$HP/$(basename "$JAR")"
wait_for 30 "$OUT/host.log" "jround-dequant-fp16" absent
echo "removed: the host's table no longer lists the plugin"
kill "$HOST_PID"; wait "$HOST_PID" 2>/dev/null || true; HOST_PID=

echo
echo "third-party plugin checks passed"
