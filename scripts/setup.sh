#!/usr/bin/env bash
# Installs every dependency Rill needs from Debian packages. Idempotent; run as root
# (or with sudo available). Nothing else is downloaded: CMake finds these packages.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git clang-format
  librdkafka-dev librocksdb-dev libboost-dev librange-v3-dev
  libspdlog-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev
  libsimdjson-dev rapidjson-dev nlohmann-json3-dev
  libcli11-dev graphviz kcat python3 python3-kafka gnuplot-nox
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
echo "setup: installing ${missing[*]}"
"${sudo_cmd[@]}" apt-get update
"${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
