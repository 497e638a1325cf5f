#!/usr/bin/env bash
# Alternating A/B of two Neurite builds on W1, W2 or W3 (one thread) in thread CPU time (see Program.cs).
# Usage: bench/cpu-ab/ab.sh OLD_DIR NEW_DIR [w1|w2|w3|mlp:U,B[,threads]] [pairs] [calls]
# OLD_DIR and NEW_DIR each hold a build's Neurite.dll and its dependencies, e.g. the Release output folder of
# bench/Neurite.Benchmarks in two checkouts. Each pair runs both builds, the order swapped every other pair.
set -euo pipefail
old=$1; new=$2; workload=${3:-w1}; pairs=${4:-10}; calls=${5:-1500}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
for side in old new; do
  dir=$old; [ $side = new ] && dir=$new
  dotnet build "$here/CpuAb.csproj" -c Release -p:NeuriteDir="$(cd "$dir" && pwd)" -o "$out/$side" \
    -p:BaseIntermediateOutputPath="$out/obj-$side/" >/dev/null
done
for i in $(seq 1 "$pairs"); do
  order="old new"; [ $((i % 2)) -eq 0 ] && order="new old"
  for side in $order; do
    echo "$i $side $("$out/$side/CpuAb" "$workload" "$calls") load $(cut -d' ' -f1 /proc/loadavg)"
  done
done
rm -rf "$out"
