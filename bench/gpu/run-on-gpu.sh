#!/usr/bin/env bash
# Issue 15's GPU evidence in two steps, for a GPU machine that has no .NET SDK and no network.
#
#   bench/gpu/run-on-gpu.sh pack   # here (with the SDK): self-contained linux-x64 builds of the Cuda tests and
#                                  # the benchmarks, in one compressed file, bench/gpu/out/neurite-gpu.tar.xz
#   bench/gpu/run-on-gpu.sh run    # there: unpacks it, finds cuBLAS in the Python environment's nvidia wheels,
#                                  # runs every Cuda test on the GPU, then the 'cuda' benchmark beside 2 CPU threads
#
# 'run' writes everything to ${OUT:-bench/gpu/out}/gpu-evidence.txt as well as to the terminal.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$here/out"
archive="$work/neurite-gpu.tar.xz"

pack() {
    rm -rf "$work/app" && mkdir -p "$work/app"
    # Both apps carry the same runtime, so one folder holds them and the archive stores it once.
    for project in tests/Neurite.Cuda.Tests bench/Neurite.Benchmarks; do
        dotnet publish "$root/$project" -c Release -r linux-x64 --self-contained -p:PublishTrimmed=false -o "$work/app" -nologo -v quiet
    done
    # xz on every core: one thread takes minutes over the ~120 MB of two self-contained apps.
    XZ_OPT="${XZ_OPT:--T0 -6}" tar -C "$work" -cJf "$archive" app
    ls -l "$archive"
}

run() {
    local out="${OUT:-$work}"
    mkdir -p "$out" "$work"
    [ -d "$work/app" ] || tar -C "$work" -xJf "$archive"
    # cuBLAS 13 comes as Python wheels (site-packages/nvidia/*/lib), not on the default library path.
    local libs=""
    for python in python3 python; do
        command -v "$python" >/dev/null || continue
        for dir in $("$python" -c 'import site, sys; print(" ".join(site.getsitepackages() + [site.getusersitepackages()]))' 2>/dev/null); do
            for lib in "$dir"/nvidia/*/lib; do [ -d "$lib" ] && libs="$libs:$lib"; done
        done
        break
    done
    export LD_LIBRARY_PATH="${libs#:}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    {
        echo "== $(date -u) on $(hostname)"
        nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "nvidia-smi: not available"
        echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
        echo "== Cuda tests (the 'cuda' cases run on the GPU here; a skip names what is missing)"
        "$work/app/Neurite.Cuda.Tests" -parallel none || echo "Cuda tests FAILED (exit $?)"
        echo "== benchmark: large LSTM step and W3 epoch, cuda beside the CPU backend on 2 threads"
        "$work/app/Neurite.Benchmarks" cuda --cpu-threads 2 || echo "cuda benchmark FAILED (exit $?)"
    } 2>&1 | tee "$out/gpu-evidence.txt"
}

case "${1:-}" in
    pack) pack ;;
    run) run ;;
    *) echo "usage: $0 pack|run" >&2; exit 2 ;;
esac
