#!/usr/bin/env bash
# Build-time smoke check of the product: `bin/jround plugins` (ServiceLoader on the flat class path)
# must list every jar of plugins/ with the version in its file name (artifactId-VERSION.jar).
set -euo pipefail
home="$1"
report="$2"
"$home/bin/jround" plugins > "$report"
missing=0
for jar in "$home"/plugins/*.jar; do
  name="$(basename "$jar")"
  version="${name%.jar}"
  version="${version##*-}"
  if ! grep -Eq "[[:space:]]${version//./\\.}[[:space:]]+${name//./\\.}([[:space:]]|$)" "$report"; then
    echo "smoke check: $name is not listed by 'jround plugins' with version $version" >&2
    missing=1
  fi
done
if [[ $missing -ne 0 ]]; then
  cat "$report" >&2
  exit 1
fi
echo "smoke check: $(tail -n 1 "$report") found in $(ls "$home"/plugins/*.jar | wc -l) plugin jars ($report)"
