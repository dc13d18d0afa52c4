#!/usr/bin/env bash
# scripts/fuzz.sh: builds the libFuzzer targets with clang (ASan + UBSan)
# and runs each for SECONDS (default 600, issue 8's campaign; CI runs a
# smoke test of a few seconds) on a seed corpus made from samples/.
#   scripts/fuzz.sh [SECONDS] [BUILD_DIR]       (BUILD_DIR default build-fuzz)
# Exit status 1 when a target crashed, leaked, hung or ran out of memory;
# the input that did it is kept in BUILD_DIR/fuzz-artifacts/ (rerun with
# BUILD_DIR/fuzz/TARGET FILE). The corpora grow in BUILD_DIR/fuzz-corpus/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
build=${2:-build-fuzz}

command -v clang++ >/dev/null || { echo "fuzz: clang++ is missing: scripts/install_deps.sh --fuzz" >&2; exit 1; }
CC=clang CXX=clang++ cmake -S . -B "$build" -DCU_FUZZ=ON -DCU_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
targets=(classify_fields_fuzz index_query_fuzz)
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}"

corpus=$build/fuzz-corpus
artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"
# Seeds: the samples' texts (what the classifier reads), and queries of every
# kind with a sample's text after them (what search and snippets read).
mkdir -p "$corpus/classify_fields_fuzz" "$corpus/index_query_fuzz"
python3 - "$corpus" <<'PY'
import glob, json, os, sys
corpus = sys.argv[1]
queries = [
    'factura', '"factura de la luz"', 'Castilla-La Mancha', 'luz AND gas OR agua NOT (recibo)',
    'tipo:factura estado:review', 'nif:12345678Z', 'iban:"ES91 2100 0418 4502 0005 1332"',
    'numero:FAC-2024-001 cups:ES0021000000000000AA', 'fecha:2024-01-01..2024-03-31',
    'fecha:..2023 importe:100..', 'importe:121,00', 'fecha:2024-03', 'prestado:si', 'prestado:no',
    'expediente:EXP-2024-7 lote:lote-1 puesto:escaner1', '+contract -gas', 'the supply of gas',
    'de la', 'fecha:2024-13-45', 'importe:abc..', '"', '(((', 'factur*',
]
texts = []
for path in sorted(glob.glob('samples/*.expected.json')):
    with open(path, encoding='utf-8') as f:
        text = json.load(f).get('text', '')
    if text:
        texts.append(text)
for i, text in enumerate(texts):
    with open(os.path.join(corpus, 'classify_fields_fuzz', 'sample-%02d' % i), 'w', encoding='utf-8') as f:
        f.write(text)
for i, q in enumerate(queries):
    with open(os.path.join(corpus, 'index_query_fuzz', 'query-%02d' % i), 'w', encoding='utf-8') as f:
        f.write(q + '\n' + texts[i % len(texts)] if texts else q)
PY

status=0
for target in "${targets[@]}"; do
  echo "== fuzz: $target for $seconds s"
  if ! "$build/fuzz/$target" "$corpus/$target" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
        -artifact_prefix="$artifacts/$target-" >"$build/$target.log" 2>&1; then
    echo "fuzz: $target FAILED; the input is in $artifacts/; the log's end:" >&2
    tail -40 "$build/$target.log" >&2
    status=1
  else
    grep -E "^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+.*DONE" "$build/$target.log" || true
  fi
done
exit $status
