#!/usr/bin/env bash
# Installs Rill into a temporary prefix and builds a user's program against it out of tree,
# once through find_package(rill) and once through pkg-config, and runs both; and, when the
# registry was built (RILL_BUILD_REGISTRY), a program that links rill::registry, both ways.
#
#   check_install.sh static <build dir> <source dir>   installs the build tree at hand
#   check_install.sh shared <build dir> <source dir>   builds the libraries shared first
#                                                      (BUILD_SHARED_LIBS=ON), checks the
#                                                      SOVERSION links, installs that
set -euo pipefail
mode=$1 build=$2 source=$3
work=$(mktemp -d /tmp/rill-install-XXXXXX)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
here=$(cd "$(dirname "$0")" && pwd)

if [ "$mode" = shared ]; then
  # Libraries only, unsanitized: what a distribution would package (-O0: what is checked is
  # how they link, and an optimized build would double the suite's longest test).
  cmake -S "$source" -B "$work/lib-build" -G Ninja -DBUILD_SHARED_LIBS=ON \
    -DRILL_BUILD_TESTS=OFF -DRILL_BUILD_EXAMPLES=OFF -DRILL_BUILD_BENCHMARKS=OFF \
    -DRILL_BUILD_TOOLS=OFF -DRILL_BUILD_REGISTRY=ON \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O0 > "$work/lib.log"
  cmake --build "$work/lib-build" -j "$(nproc)" >> "$work/lib.log" || { cat "$work/lib.log"; exit 1; }
  build=$work/lib-build
fi
cmake --install "$build" --prefix "$prefix" > "$work/install.log"
registry=OFF
grep -q '^RILL_BUILD_REGISTRY:BOOL=ON' "$build/CMakeCache.txt" && registry=ON

test -f "$prefix/lib/cmake/rill/rillConfig.cmake" || { echo "no rillConfig.cmake installed"; exit 1; }
test -f "$prefix/lib/cmake/rill/rillConfigVersion.cmake" || { echo "no rillConfigVersion.cmake"; exit 1; }
test -f "$prefix/lib/pkgconfig/rill.pc" || { echo "no rill.pc installed"; exit 1; }
test -f "$prefix/include/rill/rill.hpp" || { echo "no headers installed"; exit 1; }
libs="rill_runtime rill_kafka rill_log rill_state rill_topology rill_serde rill_testing"
if [ $registry = ON ]; then
  test -f "$prefix/lib/cmake/rill/rillRegistryTargets.cmake" || { echo "no rillRegistryTargets.cmake installed"; exit 1; }
  test -f "$prefix/lib/pkgconfig/rill-registry.pc" || { echo "no rill-registry.pc installed"; exit 1; }
  libs="$libs rill_registry"
fi
if [ "$mode" = shared ]; then
  for lib in $libs; do
    so=$(readlink "$prefix/lib/lib$lib.so") || { echo "lib$lib.so is not a link to a versioned library"; exit 1; }
    soname=$(objdump -p "$prefix/lib/lib$lib.so" | awk '/SONAME/ {print $2}')
    [ "$soname" = "lib$lib.so.0" ] || { echo "lib$lib.so has SONAME '$soname', expected lib$lib.so.0"; exit 1; }
    echo "lib$lib.so -> $so (SONAME $soname)"
  done
  export LD_LIBRARY_PATH=$prefix/lib
fi

# Through find_package(rill): rill::rill and rill::testing (and rill::registry).
cmake -S "$here/consumer" -B "$work/consumer" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
  -DWITH_REGISTRY=$registry > "$work/consumer.log" 2>&1 || { cat "$work/consumer.log"; exit 1; }
cmake --build "$work/consumer" >> "$work/consumer.log" 2>&1 || { cat "$work/consumer.log"; exit 1; }
"$work/consumer/consumer"
if [ $registry = ON ]; then
  "$work/consumer/registry_consumer"
  if [ "$mode" = shared ]; then
    # OpenSSL is rill_registry's own (private) dependency: the library loads it; the program
    # loads the library by its SONAME and does not link OpenSSL itself.
    # Captured first: with pipefail, 'objdump | grep -q' fails when grep's early exit
    # kills objdump with SIGPIPE.
    lib_needed=$(objdump -p "$prefix/lib/librill_registry.so" | awk '/NEEDED/ {print $2}')
    grep -q '^libssl' <<< "$lib_needed" || { echo "librill_registry.so does not load libssl"; exit 1; }
    needed=$(objdump -p "$work/consumer/registry_consumer" | awk '/NEEDED/ {print $2}')
    grep -q '^librill_registry.so.0$' <<< "$needed" || { echo "registry_consumer does not load librill_registry.so.0"; exit 1; }
    if grep -q '^libssl' <<< "$needed"; then echo "registry_consumer links libssl itself"; exit 1; fi
  fi
fi

# Through pkg-config: rill.pc (and rill-registry.pc).
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
flags=$(pkg-config --cflags --libs rill)
# shellcheck disable=SC2086
c++ "$here/consumer/main.cpp" -o "$work/pc-consumer" $flags
"$work/pc-consumer"
if [ $registry = ON ]; then
  flags=$(pkg-config --cflags --libs rill-registry)
  # shellcheck disable=SC2086
  c++ "$here/consumer/registry_main.cpp" -o "$work/pc-registry-consumer" $flags
  "$work/pc-registry-consumer"
fi
echo "install ($mode, registry $registry): find_package and pkg-config builds run"
