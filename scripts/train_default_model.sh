#!/usr/bin/env bash
# scripts/train_default_model.sh: regenerates classify/model/default.model,
# the type model embedded in the library (docs/classifier.md).
#   scripts/train_default_model.sh [BUILD_DIR]     (default: build)
# Deterministic: the same generator and code give the same bytes. Training
# uses ONLY generator seeds 1000-1999 (seeds 5000+ are held out for
# evaluation). Needs scripts/install_deps.sh --samples.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

dirs=()
for seed in $(seq 1000 1011); do   # 12 x 140 born-digital documents, 240 per type
  /usr/bin/python3 samples/generate.py --kind pdf --count 140 --seed "$seed" \
      --out "$work/$seed" >/dev/null 2>"$work/generate.log" ||
      { cat "$work/generate.log" >&2; exit 1; }
  dirs+=("$work/$seed")
done
cmake -S . -B "$build" >/dev/null
cmake --build "$build" --target train_type_model
"$build/classify/train_type_model" train classify/model/default.model "${dirs[@]}"
ls -l classify/model/default.model
