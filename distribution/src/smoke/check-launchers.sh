#!/usr/bin/env bash
# Build-time smoke check of the launchers: each AutoRound-style program answers --help with exit 0 and a usage
# under its own name (the sub-commands for the routers, quantize's flags, or eval's for auto-round-eval).
set -euo pipefail
home="$1"
check() {
  local launcher="$1" out want
  shift
  if ! out="$("$home/bin/$launcher" --help 2>&1)"; then
    echo "smoke check: '$launcher --help' failed:" >&2
    echo "$out" >&2
    exit 1
  fi
  for want in "$@"; do
    if ! grep -q -- "$want" <<<"$out"; then
      echo "smoke check: '$launcher --help' does not show '$want':" >&2
      echo "$out" >&2
      exit 1
    fi
  done
}
check jround "Usage: jround " "quantize"
check auto-round "Usage: auto-round " "quantize"
check auto_round "Usage: auto_round " "quantize"
for l in auto-round-best auto-round-light auto-round-rtn auto-round-opt-rtn; do
  check "$l" "Usage: $l \[-h\]" "--iters"
done
check auto-round-eval "Usage: auto-round-eval \[-h\]" "--reference"
echo "smoke check: all 9 launchers answer --help"
