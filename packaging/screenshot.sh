#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Takes the README screenshot: runs `basin --demo` in a virtual X server, waits for the
# analysis to be on screen (basin's hidden --screenshot option grabs the window and quits),
# and writes docs/screenshot.png.
#
#   packaging/screenshot.sh [BASIN_BINARY] [OUTPUT_PNG]
#
# Needs xvfb-run (Debian package xvfb). Runs with a throw-away HOME so saved window layouts
# and choices of the developer's own session do not leak into the picture.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
basin="${1:-$root/build/app/basin}"
out="${2:-$root/docs/screenshot.png}"
size="${BASIN_SCREENSHOT_SIZE:-1600x1000}"

if [[ ! -x "$basin" ]]; then
    echo "screenshot.sh: no basin binary at $basin (build it, or pass its path)" >&2
    exit 1
fi
if ! command -v xvfb-run >/dev/null; then
    echo "screenshot.sh: xvfb-run is missing (apt-get install xvfb)" >&2
    exit 1
fi

home="$(mktemp -d)"
trap 'rm -rf "$home"' EXIT
mkdir -p "$(dirname "$out")"
out="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"

# A fixed font and style keep the picture the same from machine to machine.
env -u WAYLAND_DISPLAY -u QT_QPA_PLATFORM \
    HOME="$home" XDG_CONFIG_HOME="$home/config" XDG_CACHE_HOME="$home/cache" \
    QT_STYLE_OVERRIDE=Fusion \
    xvfb-run -a -s "-screen 0 ${size}x24 -dpi 96" \
    "$basin" --demo --window-size "$size" --screenshot "$out"

echo "screenshot.sh: wrote $out ($(stat -c %s "$out") bytes)"
