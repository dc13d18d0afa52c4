#!/usr/bin/env bash
# scripts/fuzz.sh: builds the libFuzzer targets with clang (ASan + UBSan)
# and runs each for SECONDS (default 600, issue 8's campaign; CI runs a
# smoke test of a few seconds) on a seed corpus made from samples/.
#   scripts/fuzz.sh [SECONDS] [BUILD_DIR]       (BUILD_DIR default build-fuzz)
# Exit status 1 when a target crashed, leaked, hung or ran out of memory;
# the input that did it is kept in BUILD_DIR/fuzz-artifacts/ (rerun with
# BUILD_DIR/fuzz/TARGET FILE; for vault_checkpoint_fuzz with
# CUSTODIA_FUZZ_ARCHIVE=BUILD_DIR/fuzz-archive, the archive its seeds came
# from). The corpora grow in BUILD_DIR/fuzz-corpus/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
build=${2:-build-fuzz}

command -v clang++ >/dev/null || { echo "fuzz: clang++ is missing: scripts/install_deps.sh --fuzz" >&2; exit 1; }
CC=clang CXX=clang++ cmake -S . -B "$build" -DCU_FUZZ=ON -DCU_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
targets=(classify_fields_fuzz index_query_fuzz index_words_fuzz vault_ledger_fuzz
         vault_checkpoint_fuzz vault_blob_fuzz pipeline_config_fuzz ocr_hocr_fuzz)
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}" vault_fuzz_seeds

corpus=$build/fuzz-corpus
artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"
# Seeds: the samples' texts (what the classifier reads and the index cuts into words), and queries of every
# kind with a sample's text after them (what search and snippets read); the
# texts again as hOCR titles, with file names of every kind; docs/config.md's
# example custodia.toml, each table of it alone, and broken ones.
for target in "${targets[@]}"; do mkdir -p "$corpus/$target"; done
texts=$build/fuzz-texts
mkdir -p "$texts"
python3 - "$corpus" "$texts" <<'PY'
import glob, json, os, re, sys
corpus, texts_dir = sys.argv[1], sys.argv[2]
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
    for target in ('classify_fields_fuzz', 'index_words_fuzz'):
        with open(os.path.join(corpus, target, 'sample-%02d' % i), 'w', encoding='utf-8') as f:
            f.write(text)
for i, q in enumerate(queries):
    with open(os.path.join(corpus, 'index_query_fuzz', 'query-%02d' % i), 'w', encoding='utf-8') as f:
        f.write(q + '\n' + texts[i % len(texts)] if texts else q)
for path in sorted(glob.glob('samples/*.expected.json')):
    with open(path, encoding='utf-8') as f:
        text = json.load(f).get('text', '')
    stem = os.path.basename(path)[:-len('.expected.json')]
    with open(os.path.join(texts_dir, stem + '.txt'), 'w', encoding='utf-8') as f:
        f.write(text)

# ocr_hocr_fuzz: the title is all but the last byte (which picks 0-3 pages).
titles = [t[:300].encode('utf-8') for t in texts] + [
    b'scan-0042.pdf', 'Factura <2024> & albarán.pdf'.encode('utf-8'), b'lote\x06 \x01.tif',
    'a\u0301 \U0001f4c4 "quoted" \'single\'.jpg'.encode('utf-8'), b'crlf\r\n\ttab.png',
    b'lote\xff\xfe\xc3(\xe2\x82\xed\xa0\x80.pdf']
for i, t in enumerate(titles):
    with open(os.path.join(corpus, 'ocr_hocr_fuzz', 'title-%02d' % i), 'wb') as f:
        f.write(t + bytes([i % 4]))

# pipeline_config_fuzz
with open('docs/config.md', encoding='utf-8') as f:
    example = re.search(r'```toml\n(.*?)```', f.read(), re.S).group(1)
configs = [example] + ['[' + t for t in re.split(r'^\[', example, flags=re.M) if t.strip()]
configs += [
    '[review.due_hours]\nfactura = 48\ndni = 8.5\ndefault = 24\n',
    '[watch]\nsetle_seconds = 5\n', '[watch]\nmemory_limit_mb = 100\n',
    '[[watch.inbox]]\npath = "a/b"\n[[watch.inbox]]\npath = "c/b"\n',
    '[ingest]\njobs = 1e3\nlanguages = "spa++eng"\n', 'watch = 1\n',
    '[pages]\nblank_max_ink = nan\n', 'a = [[[[[[[[1]]]]]]]]\n',
    'x = """\nmulti\nline"""\ny = 1979-05-27T07:32:00Z\nz = { a = 1, b = [1, 2] }\n',
]
for i, c in enumerate(configs):
    with open(os.path.join(corpus, 'pipeline_config_fuzz', 'config-%02d.toml' % i), 'w', encoding='utf-8') as f:
        f.write(c)
PY

# The vault targets' seeds come from a real archive, built over the first
# three samples with the Vault API; vault_checkpoint_fuzz checks notes and
# proofs against it.
archive=$build/fuzz-archive
seed_args=()
for stem in 01_factura 02_dni 03_justificante; do seed_args+=("samples/$stem.pdf" "$texts/$stem.txt"); done
"$build/fuzz/vault_fuzz_seeds" "$corpus" "$archive" "${seed_args[@]}"
export CUSTODIA_FUZZ_ARCHIVE=$archive

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
