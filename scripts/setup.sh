#!/usr/bin/env bash
# Installs every dependency Rill needs from Debian packages. Idempotent; run as root
# (or with sudo available). CMake finds these packages and downloads nothing.
# Then, for the schema-registry interoperability tests, the npm packages pinned in
# tests/registry/js/package-lock.json (kafkajs, @kafkajs/confluent-schema-registry) go into
# the build tree: build/<preset>/npm (RILL_NPM_DIR overrides; RILL_SKIP_NPM=1 skips).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git clang-format
  librdkafka-dev librocksdb-dev libboost-dev librange-v3-dev
  libspdlog-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev
  libsimdjson-dev rapidjson-dev nlohmann-json3-dev
  libcli11-dev graphviz kcat python3 python3-kafka python3-prometheus-client gnuplot-nox
  libavro-dev libprotobuf-dev libprotoc-dev protobuf-compiler clang libclang-rt-14-dev
  chromium libssl-dev openssl lld valgrind
)
# Node.js for the kafkajs interoperability tests: Debian's unless one is already installed.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
else
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  echo "setup: installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update
  "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi

# npm packages for the interoperability tests, exactly as locked, into the build tree.
if [ "${RILL_SKIP_NPM:-0}" != 1 ]; then
  root="$(cd "$(dirname "$0")/.." && pwd)"
  npm_dir="${RILL_NPM_DIR:-$root/build/dev/npm}"
  lock="$root/tests/registry/js/package-lock.json"
  if ! cmp -s "$lock" "$npm_dir/package-lock.json" || [ ! -d "$npm_dir/node_modules" ]; then
    mkdir -p "$npm_dir"
    cp "$root/tests/registry/js/package.json" "$lock" "$npm_dir/"
    echo "setup: npm ci in $npm_dir"
    (cd "$npm_dir" && npm ci --no-audit --no-fund --loglevel=error)
  else
    echo "setup: npm packages in $npm_dir up to date"
  fi
fi
