#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Manual check (docs/RELIABILITY.md): merging a family whose total size exceeds free RAM
# keeps the merge's peak resident memory under 1 GiB, because the engine streams tensors
# and releases their mapped pages as it goes.
#
#   packaging/larger-than-ram.sh [--basin PATH] [--work DIR] [--size PRESET] [--dtype D]
#                                [--models N] [--method M] [--limit-mib M] [--cgroup] [--keep]
#
# --method: task_arithmetic (default; streamed in chunks) or any method taking weight and
# density (ties, dare_ties, …: whole tensors, so peak memory grows with the largest tensor
# × the number of models).
# Default: the "1b" demo preset in bf16 with 3 fine-tunes (4 × ~2.2 GB). To exceed free RAM
# pick --models so that (models + 1) × model size > MemAvailable; the script prints both
# and says whether this run is larger than RAM or a scaled-down one. It needs free disk for
# the family plus one output model and refuses to start otherwise.
#
# Peak RSS comes from /usr/bin/time -v (the kernel's ru_maxrss of the merge process).
# cgroup limits (systemd-run -p MemoryMax=) are used with --cgroup when a systemd manager is
# reachable; ulimit -v is not usable (it limits address space, and the inputs are mapped).
set -euo pipefail

basin=${BASIN:-}
work=""
size=1b
dtype=bf16
models=3
limit_mib=1024
keep=0
cgroup=0
method=task_arithmetic
while [ $# -gt 0 ]; do
  case "$1" in
    --basin) basin=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --dtype) dtype=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    --limit-mib) limit_mib=$2; shift 2 ;;
    --method) method=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --cgroup) cgroup=1; shift ;;
    -h | --help) sed -n '3,18p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "$basin" ]; then
  for candidate in "$root"/build/app/basin "$root"/build-*/app/basin; do
    if [ -x "$candidate" ]; then basin=$candidate; break; fi
  done
fi
[ -x "$basin" ] || { echo "no basin binary: build it or pass --basin" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (Debian package 'time')" >&2; exit 2; }

work=${work:-$root/build-larger-than-ram}
mkdir -p "$work"
family=$work/family
out=$work/merged
rm -rf "$family" "$out"
cleanup() {
  if [ "$keep" = 0 ]; then rm -rf "$family" "$out" "$work/recipe.yml"; fi
}
trap cleanup EXIT

echo "== generating the family: $size $dtype, base + $models fine-tunes, in $family"
/usr/bin/time -f "generation: %e s, peak RSS %M KiB" \
  "$basin" demo "$family" --size "$size" --dtype "$dtype" --models "$models"

family_kib=$(du -sk "$family" | cut -f1)
avail_kib=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
model_kib=$(du -sk "$family/base" | cut -f1)
disk_kib=$(df -Pk "$work" | awk 'NR == 2 {print $4}')
echo "family: $((family_kib / 1024)) MiB on disk; MemAvailable: $((avail_kib / 1024)) MiB"
if [ "$disk_kib" -lt "$((model_kib * 2))" ]; then
  echo "not enough disk for the output model ($((model_kib / 1024)) MiB)" >&2; exit 1
fi
if [ "$family_kib" -gt "$avail_kib" ]; then
  echo "this run is LARGER THAN RAM"
else
  echo "this run is a SCALED-DOWN check (family smaller than free RAM)"
fi

{
  echo "models:"
  for m in $(seq 1 "$models"); do
    echo "  - model: ft$m"
    if [ "$method" = task_arithmetic ]; then
      echo "    parameters: {weight: 0.5}"
    else
      echo "    parameters: {weight: 0.5, density: 0.5}"
    fi
  done
  echo "merge_method: $method"
  echo "base_model: base"
  echo "dtype: $( [ "$dtype" = f32 ] && echo float32 || echo bfloat16 )"
} >"$work/recipe.yml"
cp "$work/recipe.yml" "$family/recipe.yml"

# Drop the family from the page cache when allowed, so the merge really reads from disk.
sync
if [ -w /proc/sys/vm/drop_caches ]; then echo 1 >/proc/sys/vm/drop_caches || true; fi

cmd=("$basin" merge "$family/recipe.yml" "$out")
if [ "$cgroup" = 1 ]; then
  if systemd-run --quiet --scope -p MemoryMax="${limit_mib}M" true 2>/dev/null; then
    echo "running under systemd-run MemoryMax=${limit_mib}M"
    cmd=(systemd-run --quiet --scope -p MemoryMax="${limit_mib}M" "${cmd[@]}")
  else
    echo "systemd-run --scope is not available here: measuring RSS only"
  fi
fi

echo "== merging ($method, $models fine-tunes)"
timefile=$work/time.txt
/usr/bin/time -v -o "$timefile" "${cmd[@]}"
peak_kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$timefile")
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$timefile")
echo "merge: wall $wall, peak RSS $((peak_kib / 1024)) MiB (limit ${limit_mib} MiB)," \
  "inputs $((family_kib / 1024)) MiB"
if [ "$peak_kib" -ge "$((limit_mib * 1024))" ]; then
  echo "FAIL: peak RSS above the limit" >&2
  exit 1
fi
echo "PASS"
