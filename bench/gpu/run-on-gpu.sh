#!/usr/bin/env bash
# Issue 15's GPU evidence in two steps, for a GPU machine that has no .NET SDK and no network.
#
#   bench/gpu/run-on-gpu.sh pack            # here (with the SDK): self-contained linux-x64 builds of the Cuda tests
#                                           # and the benchmarks in one compressed file, bench/gpu/out/neurite-gpu.tar.xz
#   bench/gpu/run-on-gpu.sh run             # there: unpacks it, finds cuBLAS in the Python environment's nvidia wheels,
#                                           # runs every Cuda test on the GPU, then the 'cuda' benchmark beside 2 CPU
#                                           # threads, and prints one summary table (about 2 minutes; each stage is
#                                           # bounded so the whole stays under 10)
#   bench/gpu/run-on-gpu.sh run --dry-run   # here: the same run with ILGPU's CPU accelerator standing in for the GPU
#                                           # (the benchmark at toy sizes), to check the archive and the script first
#
# 'run' writes everything to ${OUT:-bench/gpu/out}/gpu-evidence.txt (and the tests' report beside it) as well as
# to the terminal. The archive travels to the device machine as a carried path; see bench/results/cuda.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$here/out"
archive="$work/neurite-gpu.tar.xz"
# The device machine takes at most 64 MiB per call, the working tree included.
archive_limit_mib=56

pack() {
    rm -rf "$work/app" && mkdir -p "$work/app"
    # Both apps carry the same runtime, so one folder holds them and the archive stores it once.
    for project in tests/Neurite.Cuda.Tests bench/Neurite.Benchmarks; do
        dotnet publish "$root/$project" -c Release -r linux-x64 --self-contained -p:PublishTrimmed=false -o "$work/app" -nologo -v quiet
    done
    # xz on every core: one thread takes minutes over the ~120 MB of two self-contained apps.
    XZ_OPT="${XZ_OPT:--T0 -6}" tar -C "$work" -cJf "$archive" app
    local mib=$(( $(stat -c %s "$archive") / 1048576 ))
    ls -l "$archive"
    if [ "$mib" -gt "$archive_limit_mib" ]; then
        echo "pack: the archive is $mib MiB, over the $archive_limit_mib MiB that leaves room for the working tree in one 64 MiB transfer" >&2
        exit 1
    fi
}

# Puts the directories holding libcublas (the nvidia-* wheels of whichever python3 is first on the PATH) on LD_LIBRARY_PATH.
find_cublas() {
    command -v python3 >/dev/null || return 0
    local libs="" dir lib
    for dir in $(python3 -c 'import site; print(" ".join(site.getsitepackages() + [site.getusersitepackages()]))' 2>/dev/null); do
        [ -d "$dir/nvidia" ] || continue
        for lib in $(find "$dir/nvidia" -maxdepth 4 -name 'libcublas.so*' -printf '%h\n' 2>/dev/null | sort -u); do libs="$libs:$lib"; done
    done
    export LD_LIBRARY_PATH="${libs#:}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
}

# One summary row from the tests' output: every 'cuda' case must have run (no skip for a missing device or cuBLAS) and passed.
tests_row() {
    local log="$1" status="$2" dry="$3" line total failed errors skipped missing met
    line="$(grep -E 'Total: [0-9]+, Errors: [0-9]+, Failed: [0-9]+, Skipped: [0-9]+' "$log" | tail -1 || true)"
    if [ -z "$line" ]; then
        echo "| Cuda tests | no summary (exit $status) | all pass, none skipped for want of a GPU | NO |"
        return
    fi
    total="$(sed -E 's/.*Total: ([0-9]+).*/\1/' <<<"$line")"
    errors="$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")"
    failed="$(sed -E 's/.*Failed: ([0-9]+).*/\1/' <<<"$line")"
    skipped="$(sed -E 's/.*Skipped: ([0-9]+).*/\1/' <<<"$line")"
    missing="$(grep -cE 'skipped: no (CUDA device|libcublas)' "$log" || true)"
    met="yes"
    [ "$failed" = 0 ] && [ "$errors" = 0 ] && [ "$status" = 0 ] || met="NO"
    if [ "$dry" = 1 ]; then
        [ "$met" = yes ] && met="n/a"
    else
        [ "$missing" = 0 ] || met="NO"
    fi
    echo "| Cuda tests$([ "$dry" = 1 ] && echo " (no GPU: the cuda cases skip)") | $total run, $failed failed, $errors errors, $skipped skipped ($missing of them for want of a GPU or cuBLAS) | all pass, none skipped for want of a GPU | $met |"
}

run() {
    local dry=0
    [ "${1:-}" = "--dry-run" ] && dry=1
    local out="${OUT:-$work}"
    mkdir -p "$out" "$work"
    [ -d "$work/app" ] || tar -C "$work" -xJf "$archive"
    find_cublas
    local tests_log="$out/cuda-tests.txt" bench_log="$out/cuda-bench.txt" tests_status=0 bench_status=0
    local bench_args=(cuda --cpu-threads 2) tests_limit=300 bench_limit=270
    # ILGPU's CPU accelerator takes milliseconds a kernel: a dry run is bounded by patience, not by the device's 10 minutes.
    [ "$dry" = 1 ] && { bench_args+=(--dry-run); tests_limit=900; bench_limit=900; }
    {
        echo "== $(date -u) on $(hostname), $(nproc) cores"
        nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "nvidia-smi: not available"
        echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
        echo "== Cuda tests (the 'cuda' cases run on the GPU here; a skip names what is missing)"
    } 2>&1 | tee "$out/gpu-evidence.txt"
    timeout "$tests_limit" "$work/app/Neurite.Cuda.Tests" -parallel none -noColor > "$tests_log" 2>&1 || tests_status=$?
    grep -E '\[(FAIL|SKIP)\]|^\s+(skipped|Assert)|Total: ' "$tests_log" | tee -a "$out/gpu-evidence.txt" || true
    echo "== benchmark: ${bench_args[*]}" | tee -a "$out/gpu-evidence.txt"
    timeout "$bench_limit" "$work/app/Neurite.Benchmarks" "${bench_args[@]}" > "$bench_log" 2>&1 || bench_status=$?
    cat "$bench_log" | tee -a "$out/gpu-evidence.txt"
    {
        echo
        echo "== SUMMARY (tests exit $tests_status, benchmark exit $bench_status)"
        echo "| check | result | target | met |"
        echo "|---|---|---|---|"
        tests_row "$tests_log" "$tests_status" "$dry"
        sed -n '/^| check |/,$p' "$bench_log" | tail -n +3
    } | tee -a "$out/gpu-evidence.txt"
}

case "${1:-}" in
    pack) pack ;;
    run) shift; run "$@" ;;
    *) echo "usage: $0 pack | run [--dry-run]" >&2; exit 2 ;;
esac
