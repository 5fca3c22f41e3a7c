#!/usr/bin/env bash
# Shows that the SPI's API-compatibility check (japicmp in spi/pom.xml) does its job: in a scratch copy of
# the spi module it
#   1. removes a method from an interface (ProgressListener.message) at the same version -> the build must FAIL,
#   2. makes the same removal with a major bump (2.0.0)                                   -> it must pass,
#   3. adds an abstract method to an interface with a minor bump (1.1.0)                   -> it must FAIL,
#   4. adds a default method with a minor bump (1.1.0)                                     -> it must pass,
#   5. adds a component to a record (LayerSpec) at 1.1.0, dropping its old constructor    -> it must FAIL,
#   6. adds the same component keeping the old canonical constructor as an overload        -> it must pass.
# The working tree is not touched. Called by .ci/run after the reactor build (which resolved the plugin);
# MVN_FLAGS (default "-B -ntp -q") can add -o.
set -euo pipefail
cd "$(dirname "$0")/../.."
MVN_FLAGS=${MVN_FLAGS:--B -ntp -q}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PL=src/main/java/dev/jround/spi/quant/ProgressListener.java

fresh() {  # fresh copy of the root pom and the spi module (without target/)
  rm -rf "$WORK/r" && mkdir -p "$WORK/r/spi"
  cp pom.xml "$WORK/r/"
  tar -C spi --exclude=./target -cf - . | tar -C "$WORK/r/spi" -xf -
}
set_version() { sed -i "0,/<version>1.0.0<\/version>/s//<version>$1<\/version>/" "$WORK/r/spi/pom.xml"; }
remove_method() { sed -i '/A free-form status line/,/^    }$/d' "$WORK/r/spi/$PL"; ! grep -q 'void message' "$WORK/r/spi/$PL"; }
add_default() { sed -i 's|^}$|    /** Added in a minor release. */\n    default void blockStarted(int block) {\n    }\n}|' "$WORK/r/spi/$PL"; }
add_abstract() {  # NONE implements it so that the copy still compiles
  sed -i -e 's|^}$|    void blockStarted(int block);\n}|' \
      -e 's|^    ProgressListener NONE = new ProgressListener() {$|&\n        public void blockStarted(int block) {\n        }|' "$WORK/r/spi/$PL"
}
LS=src/main/java/dev/jround/spi/quant/LayerSpec.java
add_component() {  # LayerSpec gains "String note"
  sed -i 's|boolean fixedByUser, String reason) {|boolean fixedByUser, String reason, String note) {|' "$WORK/r/spi/$LS"
  grep -q 'String note) {' "$WORK/r/spi/$LS"
}
keep_old_constructor() {
  sed -i 's|^    public boolean quantized() {|    public LayerSpec(String name, int inFeatures, int outFeatures, QuantScheme scheme, int blockIndex,\n                     boolean fixedByUser, String reason) {\n        this(name, inFeatures, outFeatures, scheme, blockIndex, fixedByUser, reason, "");\n    }\n\n&|' "$WORK/r/spi/$LS"
}
check() {  # runs the spi module's verify (check included, tests skipped) in the copy; its exit status
  mvn $MVN_FLAGS -f "$WORK/r/spi/pom.xml" verify -Dmaven.test.skip=true >"$WORK/log" 2>&1
}

fresh; remove_method
if check; then echo "FAIL: removing ProgressListener.message without a major bump passed the API check"; exit 1; fi
grep -q "japicmp" "$WORK/log" || { echo "FAIL: the build failed, but not in the API check:"; cat "$WORK/log"; exit 1; }
echo "ok: removing a method without a major bump fails the API check"

fresh; remove_method; set_version 2.0.0
check || { echo "FAIL: the same removal with version 2.0.0 was refused:"; cat "$WORK/log"; exit 1; }
echo "ok: the same removal passes with a major bump (2.0.0)"

fresh; add_abstract; set_version 1.1.0
if check; then echo "FAIL: adding an abstract method in a minor release passed the API check"; exit 1; fi
grep -q "japicmp" "$WORK/log" || { echo "FAIL: the build failed, but not in the API check:"; cat "$WORK/log"; exit 1; }
echo "ok: adding an abstract method to an interface needs a major bump"

fresh; add_default; set_version 1.1.0
check || { echo "FAIL: adding a default method in 1.1.0 was refused:"; cat "$WORK/log"; exit 1; }
echo "ok: adding a default method passes with a minor bump (1.1.0)"

fresh; add_component; set_version 1.1.0
if check; then echo "FAIL: a record component added without the old constructor passed the API check"; exit 1; fi
grep -q "japicmp" "$WORK/log" || { echo "FAIL: the build failed, but not in the API check:"; cat "$WORK/log"; exit 1; }
echo "ok: adding a record component without keeping the old constructor needs a major bump"

fresh; add_component; keep_old_constructor; set_version 1.1.0
check || { echo "FAIL: a record component with the old constructor kept was refused in 1.1.0:"; cat "$WORK/log"; exit 1; }
echo "ok: adding a record component that keeps the old canonical constructor passes with a minor bump (1.1.0)"
