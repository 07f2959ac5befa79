#!/usr/bin/env bash
# Prints raw, gzip and brotli bytes of everything a host page downloads for the
# script-tag embed (trickle.js + trickle.wasm), and the total against the goal.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-dist/embed}
goal=$((64 * 1024))
printf '%-14s %9s %9s %9s\n' file raw gzip brotli
tr=0 tg=0 tb=0
for f in "$dir/trickle.js" "$dir/trickle.wasm"; do
  r=$(wc -c <"$f")
  g=$(gzip -9 -c "$f" | wc -c)
  b=$(brotli -q 11 -c "$f" | wc -c)
  printf '%-14s %9d %9d %9d\n' "$(basename "$f")" "$r" "$g" "$b"
  tr=$((tr + r)) tg=$((tg + g)) tb=$((tb + b))
done
printf '%-14s %9d %9d %9d\n' total "$tr" "$tg" "$tb"
printf 'size: %d B brotli for a host page (goal %d B): %s\n' "$tb" "$goal" \
  "$([ "$tb" -le "$goal" ] && echo within goal || echo OVER goal)"
