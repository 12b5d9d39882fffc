#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Merge-engine figures (docs/ENGINE.md, "Benchmarks"). Not run by CI.
#
#   tests/bench/run-merge-bench.sh BUILD_DIR [WORK_DIR]
#
# 1. The mergekit comparison family: base + 3 bf16 fine-tunes, Llama-shaped, 4 layers,
#    hidden 1024, intermediate 4096, vocab 16000 (~179 MiB each). Wall time of `basin merge`
#    (output written) for ties and task_arithmetic, best of 3, next to the warm page-cache
#    read time of the inputs. Goals: ties <= 0.8 s, task_arithmetic <= 0.25 s.
# 2. Three ~2 GiB bf16 checkpoints (`basin demo --size 1b`: base + 2 fine-tunes): peak RSS
#    (/usr/bin/time -v) <= 1 GiB; linear and ties wall time next to `cat` of all inputs and a
#    memcpy of the same bytes measured in the same run. Targets: linear within 2x of the
#    memcpy-bound time, ties within 4x.
# Also printed: the time to write the output's size into WORK_DIR (page cache, then fsync),
# since a merge also writes (and, like every Basin export, fsyncs) its output.
# Needs ~11 GB free in WORK_DIR (default /tmp/basin-merge-bench); deletes it at the end.
set -euo pipefail

build=${1:?usage: run-merge-bench.sh BUILD_DIR [WORK_DIR]}
work=${2:-/tmp/basin-merge-bench}
basin=$build/app/basin
bench=$build/tests/bench/bench_merge
[[ -x $basin && -x $bench ]] || { echo "build basin and bench_merge first" >&2; exit 2; }

mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
df -h "$work"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"

wall() { # best wall time of 3 runs of a command, in seconds
    local best=
    for _ in 1 2 3; do
        local start end
        start=$(date +%s.%N)
        "$@" > /dev/null
        end=$(date +%s.%N)
        best=$(echo "$start $end ${best:-1e9}" | awk '{ t = $2 - $1; print (t < $3 ? t : $3) }')
    done
    printf '%.3f' "$best"
}

recipe() { # METHOD FAMILY FT_PARAMS MODELS...
    local method=$1 family=$2 params=$3
    shift 3
    echo "models:"
    for m in "$@"; do
        echo "  - model: $family/$m"
        echo "    parameters: $params"
    done
    echo "merge_method: $method"
    [[ $method == linear ]] || echo "base_model: $family/base"
    echo "dtype: bfloat16"
}

echo
echo "== 1. mergekit comparison family (4 layers, hidden 1024, intermediate 4096, vocab 16000)"
"$basin" demo "$work/cmp" --size medium --layers 4 --intermediate 4096 --vocab 16000 \
    --models 3 --dtype bf16 --quiet
recipe ties "$work/cmp" "{weight: 1.0, density: 0.5}" ft1 ft2 ft3 > "$work/cmp-ties.yml"
recipe task_arithmetic "$work/cmp" "{weight: 0.5}" ft1 ft2 ft3 > "$work/cmp-ta.yml"
inputs=("$work"/cmp/{base,ft1,ft2,ft3}/*.safetensors)
cat "${inputs[@]}" > /dev/null
echo "cat of the inputs (warm, best of 3): $(wall cat "${inputs[@]}") s"
"$bench" bounds --write "$(stat -c %s "$work"/cmp/base/*.safetensors)" "$work" "${inputs[@]}"
for m in ties ta; do
    echo "basin merge $m: $(wall "$basin" merge "$work/cmp-$m.yml" "$work/out-$m" --overwrite --quiet) s"
done
rm -rf "$work/cmp" "$work"/out-*

echo
echo "== 2. three ~2 GiB bf16 checkpoints (basin demo --size 1b: base + 2 fine-tunes)"
"$basin" demo "$work/big" --size 1b --models 2 --dtype bf16 --quiet
recipe linear "$work/big" "{weight: 1.0}" base ft1 ft2 > "$work/big-linear.yml"
recipe ties "$work/big" "{weight: 1.0, density: 0.5}" ft1 ft2 > "$work/big-ties.yml"
inputs=("$work"/big/{base,ft1,ft2}/*.safetensors)
cat "${inputs[@]}" > /dev/null
echo "cat of the inputs (warm, best of 3): $(wall cat "${inputs[@]}") s"
"$bench" bounds --write "$(du -cb "$work"/big/base/*.safetensors | tail -1 | cut -f1)" "$work" \
    "${inputs[@]}"
for m in linear ties; do
    rm -rf "$work/out-$m"
    cat "${inputs[@]}" > /dev/null
    /usr/bin/time -v "$basin" merge "$work/big-$m.yml" "$work/out-$m" --quiet 2> "$work/time-$m.txt"
    echo "basin merge $m: $(grep 'Elapsed (wall' "$work/time-$m.txt" | awk '{print $NF}') wall," \
         "peak RSS $(awk '/Maximum resident/ { printf "%.0f MiB", $NF / 1024 }' "$work/time-$m.txt")"
    rm -rf "$work/out-$m"
done
"$bench" merge "$work/big-ties.yml" "$work/out-inproc"
rm -rf "$work/out-inproc"
