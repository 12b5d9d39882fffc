#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs the Debian 12 packages Basin needs to build, test and run. Idempotent: skips
# what is installed. As root it installs; otherwise it prints the sudo line to run.
set -euo pipefail

packages=(
  build-essential cmake
  qt6-base-dev qt6-base-dev-tools libqcustomplot-dev libqcustomplot2.1-qt6
  libeigen3-dev nlohmann-json3-dev libyaml-cpp-dev libgl1-mesa-dev libxkbcommon-dev
  xvfb xauth imagemagick
)
# --fuzz (or BASIN_WITH_FUZZ=1): also clang and its runtimes (libFuzzer), for the fuzz stage
# of the test command (packaging/ci-extra.sh fuzz).
with_fuzz=${BASIN_WITH_FUZZ:-0}
for arg in "$@"; do
  case "$arg" in
    --fuzz) with_fuzz=1 ;;
    *) echo "usage: $0 [--fuzz]" >&2; exit 2 ;;
  esac
done
if [ "$with_fuzz" = 1 ]; then
  packages+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: missing: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: run this as root, or:"
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
