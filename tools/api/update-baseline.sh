#!/usr/bin/env bash
# Regenerates the SPI's API baseline (spi/api-baseline/jround-spi-<version>.jar), the jar the
# japicmp check in spi/pom.xml compares every build against. Run it when an SPI version is released
# (after a major bump, or after merging work that deliberately reshaped the SPI), then commit the jar
# and spi/pom.xml. Builds the spi module in the reactor only; nothing goes to ~/.m2.
# Usage: tools/api/update-baseline.sh [extra mvn flags, e.g. -o]
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -B -ntp -q "$@" package -pl spi -DskipTests -Djapicmp.skip=true
VERSION=$(sed -n 's|^  <version>\(.*\)</version>$|\1|p' spi/pom.xml | head -1)
JAR=spi/target/jround-spi-$VERSION.jar
[ -f "$JAR" ] || { echo "no $JAR after the build"; exit 1; }
git rm -q --ignore-unmatch 'spi/api-baseline/*.jar' >/dev/null 2>&1 || rm -f spi/api-baseline/*.jar
mkdir -p spi/api-baseline
cp "$JAR" "spi/api-baseline/jround-spi-$VERSION.jar"
sed -i "s|<jround.spi.baseline>.*</jround.spi.baseline>|<jround.spi.baseline>$VERSION</jround.spi.baseline>|" spi/pom.xml
echo "baseline: spi/api-baseline/jround-spi-$VERSION.jar (spi/pom.xml jround.spi.baseline=$VERSION); commit both"
