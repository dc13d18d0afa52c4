#!/usr/bin/env bash
# bench/ocr_eval.sh: issue 4's "Targets, measured in bench/ side by side in
# one run". Generates the degraded evaluation set (samples/generate.py
# --profile eval: 64 pages, never committed) into a temporary folder and, on
# the same pages, in one run:
#   custodia ingest --jobs 1 and --jobs 2 (fresh archives), text via
#     `custodia export ID --format text` when it exists, else `show --json`;
#   bare `tesseract IMG - -l spa+eng`, as shipped (OpenMP threads) and with
#     OMP_THREAD_LIMIT=1;
#   `ocrmypdf --deskew --clean --rotate-pages -l spa+eng`, text by pdftotext;
# then bench/cer.py prints one table: CER (median, mean, pooled) and seconds
# per page per tool, speed ratios, the --jobs 2 speed-up, CER by rotation,
# and the linn rows (the page of $CUSTODIA_TESTDATA/scan_cleanup_degraded/
# ocrmypdf upright, in four cardinal rotations and skewed, against linn.txt).
# See bench/README.md ("ocr_eval.sh") for the columns and the normalisation.
#
# Usage: bench/ocr_eval.sh [options]
#   --custodia PATH  the binary (else $CUSTODIA_BIN, else build/tools/custodia)
#   --pages N        only the first N pages (smoke test: --pages 6; no linn rows
#                    unless --linn); default all 64
#   --eval-dir DIR   use (or generate into, if it has no manifest.json) DIR
#   --seed S         eval seed (default: the generator's EVAL_SEED)
#   --results DIR    keep texts, times, per_page.tsv and table.txt in DIR
#                    (default: a temporary folder, removed)
#   --tools LIST     comma list of custodia,tesseract,ocrmypdf (default all)
#   --linn / --no-linn  the linn rows (default: on for the full set)
#   --testdata DIR   shared test data (else $CUSTODIA_TESTDATA, else
#                    ../shared/testdata from the repository root)
#   --nice N         niceness of the custodia and tesseract runs (default 5:
#                    ocrmypdf renices itself by +5, so all compete alike)
#   --quick          smoke test: --pages 6 --tools custodia,tesseract --no-linn
# Needs: scripts/install_deps.sh --bench (tesseract, ocrmypdf, unpaper,
# poppler-utils, the generator's Python packages). The full set took 91
# minutes on 2 cores at load 4-6, 61 of them ocrmypdf (about 57 s a page);
# --quick about a minute (57 s on a quiet machine); --pages 2 (every tool,
# ocrmypdf included) about three.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

custodia=${CUSTODIA_BIN:-build/tools/custodia}
pages=""
eval_dir=""
seed=""
results=""
tools="custodia,tesseract,ocrmypdf"
linn=""
testdata=${CUSTODIA_TESTDATA:-../shared/testdata}
niceness=5
while [ $# -gt 0 ]; do
  case "$1" in
    --custodia) custodia=$2; shift 2 ;;
    --pages) pages=$2; shift 2 ;;
    --eval-dir) eval_dir=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    --tools) tools=$2; shift 2 ;;
    --linn) linn=1; shift ;;
    --no-linn) linn=0; shift ;;
    --testdata) testdata=$2; shift 2 ;;
    --nice) niceness=$2; shift 2 ;;
    --quick) pages=6; tools=custodia,tesseract; linn=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "ocr_eval: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$linn" ] || { [ -n "$pages" ] && linn=0 || linn=1; }
has() { case ",$tools," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
py=/usr/bin/python3
cer() { "$py" "$repo/bench/cer.py" "$@"; }
log() { printf 'ocr_eval: %s\n' "$*" >&2; }
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }

# checks first, so that a missing tool fails in a second, not after an hour
if has custodia; then
  [ -x "$custodia" ] || { echo "ocr_eval: $custodia not found: build custodia, or pass --custodia PATH" >&2; exit 1; }
  custodia=$(cd "$(dirname "$custodia")" && pwd)/$(basename "$custodia")
fi
need=(pdftoppm)
has tesseract && need+=(tesseract)
has ocrmypdf && need+=(ocrmypdf pdftotext unpaper)
for c in "${need[@]}"; do
  command -v "$c" >/dev/null || { echo "ocr_eval: $c missing: scripts/install_deps.sh --bench" >&2; exit 1; }
done
linn_dir=$testdata/scan_cleanup_degraded/ocrmypdf
if [ "$linn" = 1 ] && [ ! -f "$linn_dir/linn.txt" ]; then
  log "no $linn_dir/linn.txt (set CUSTODIA_TESTDATA or --testdata): no linn rows"
  linn=0
fi
"$py" "$repo/bench/cer.py" selftest >/dev/null

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ocr_eval.XXXXXX")
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
if [ -z "$results" ]; then
  results=$tmp/results
else
  results=$(mkdir -p "$results" && cd "$results" && pwd)
  rm -rf "$results/text" "$results/linn"
  rm -f "$results"/times.tsv "$results"/*.ingest.jsonl "$results"/per_page.tsv "$results"/table.txt
fi
mkdir -p "$results/text" "$results/linn"
times=$results/times.tsv
: >"$times"
start=$(now)
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the evaluation set ---------------------------------------------------
[ -n "$eval_dir" ] || eval_dir=$tmp/set
if [ ! -f "$eval_dir/manifest.json" ]; then
  gen=(--profile eval --out "$eval_dir")
  [ -z "$seed" ] || gen+=(--seed "$seed")
  [ -z "$pages" ] || gen+=(--count "$pages")  # N documents hold at least N pages
  t0=$(now)
  "$py" samples/generate.py "${gen[@]}" >&2
  log "generated the set in $(calc "$(now) - $t0") s"
fi
"$py" samples/generate.py --check --out "$eval_dir" >/dev/null ||
  { echo "ocr_eval: $eval_dir fails generate.py --check" >&2; exit 1; }
manifest=$eval_dir/manifest.json
images=()
stems=()
while IFS=$'\t' read -r img st; do images+=("$img"); stems+=("$st"); done \
  < <(cer pages "$manifest" ${pages:+--pages "$pages"})
n=${#images[@]}
[ "$n" -gt 0 ] || { echo "ocr_eval: no pages in $manifest" >&2; exit 1; }
log "$n pages from $eval_dir"

# ---- custodia ---------------------------------------------------------------
export CUSTODIA_PASSPHRASE=${CUSTODIA_PASSPHRASE:-ocr-eval-bench}
unset CUSTODIA_ARCHIVE CUSTODIA_USER
run_custodia() {  # key jobs
  local key=$1 jobs=$2 arch=$tmp/archive_$1 t0 t1
  rm -rf "$arch"
  "$custodia" --archive "$arch" init >/dev/null
  log "custodia ingest --jobs $jobs ($n pages)"
  t0=$(now)
  nice -n "$niceness" "$custodia" --archive "$arch" --json ingest --jobs "$jobs" "${images[@]}" \
    >"$results/$key.ingest.jsonl" 2>"$tmp/$key.err" || log "custodia --jobs $jobs: some pages failed: $(tail -n 3 "$tmp/$key.err")"
  t1=$(now)
  printf '%s\twall\t%s\n' "$key" "$(calc "$t1 - $t0")" >>"$times"
  cer custodia-text "$custodia" "$arch" "$results/$key.ingest.jsonl" "$results/text/$key"
}
if has custodia; then
  run_custodia custodia_j1 1
  run_custodia custodia_j2 2
fi

# ---- bare tesseract -------------------------------------------------------
run_tesseract() {  # key [env assignment]
  local key=$1 t0 t1 t00 i
  shift
  mkdir -p "$results/text/$key"
  log "$* tesseract IMG - -l spa+eng ($n pages)"
  t00=$(now)
  for i in "${!images[@]}"; do
    t0=$(now)
    env "$@" nice -n "$niceness" tesseract "${images[$i]}" - -l spa+eng \
      >"$results/text/$key/${stems[$i]}.txt" 2>/dev/null ||
      log "tesseract failed on ${images[$i]}"
    t1=$(now)
    printf '%s\t%s\t%s\n' "$key" "${stems[$i]}" "$(calc "$t1 - $t0")" >>"$times"
  done
  printf '%s\twall\t%s\n' "$key" "$(calc "$(now) - $t00")" >>"$times"
}
if has tesseract; then
  run_tesseract tesseract
  run_tesseract tesseract_omp1 OMP_THREAD_LIMIT=1
fi

# ---- ocrmypdf ---------------------------------------------------------------
if has ocrmypdf; then
  mkdir -p "$results/text/ocrmypdf" "$tmp/ocrmypdf"
  log "ocrmypdf --deskew --clean --rotate-pages -l spa+eng ($n pages)"
  t00=$(now)
  for i in "${!images[@]}"; do
    pdf=$tmp/ocrmypdf/${stems[$i]}.pdf
    t0=$(now)
    ocrmypdf -q --deskew --clean --rotate-pages -l spa+eng "${images[$i]}" "$pdf" 2>>"$tmp/ocrmypdf.err" ||
      log "ocrmypdf failed on ${images[$i]} (exit $?)"
    t1=$(now)
    printf 'ocrmypdf\t%s\t%s\n' "${stems[$i]}" "$(calc "$t1 - $t0")" >>"$times"
    # -raw: the text layer in the order Tesseract wrote it (pdftotext's
    # default reading-order mode reads table columns one after another)
    [ ! -f "$pdf" ] || pdftotext -raw -enc UTF-8 "$pdf" "$results/text/ocrmypdf/${stems[$i]}.txt"
  done
  printf 'ocrmypdf\twall\t%s\n' "$(calc "$(now) - $t00")" >>"$times"
fi

# ---- the linn page (quality only, not timed) --------------------------------
if [ "$linn" = 1 ]; then
  log "linn rows: $linn_dir (linn.png, cardinal.pdf, skew.pdf, rotated_skew.pdf)"
  linn_in=("$linn_dir/linn.png" "$linn_dir/cardinal.pdf" "$linn_dir/skew.pdf" "$linn_dir/rotated_skew.pdf")
  if has custodia; then
    arch=$tmp/archive_linn
    "$custodia" --archive "$arch" init >/dev/null
    "$custodia" --archive "$arch" --json ingest --jobs 2 "${linn_in[@]}" >"$tmp/linn.ingest.jsonl" 2>"$tmp/linn.err" ||
      log "custodia failed on a linn file: $(tail -n 3 "$tmp/linn.err")"
    cer custodia-text "$custodia" "$arch" "$tmp/linn.ingest.jsonl" "$results/linn/custodia_j1"
  fi
  if has tesseract; then
    # PDF pages rendered at 300 dpi, as custodia renders scanned PDF pages
    mkdir -p "$tmp/linn_img" "$results/linn/tesseract"
    cp "$linn_dir/linn.png" "$tmp/linn_img/linn.png"
    for f in cardinal skew rotated_skew; do pdftoppm -r 300 -gray -png "$linn_dir/$f.pdf" "$tmp/linn_img/$f"; done
    for img in "$tmp/linn_img"/*.png; do
      b=$(basename "$img" .png)
      case "$b" in
        cardinal-*) out=cardinal.p${b#cardinal-} ;;
        *-1) out=${b%-1} ;;
        *) out=$b ;;
      esac
      tesseract "$img" - -l spa+eng >"$results/linn/tesseract/$out.txt" 2>/dev/null || log "tesseract failed on $img"
    done
  fi
  if has ocrmypdf; then
    mkdir -p "$results/linn/ocrmypdf"
    for f in "${linn_in[@]}"; do
      b=$(basename "$f"); b=${b%.*}
      pdf=$tmp/ocrmypdf/linn_$b.pdf
      dpi=()  # linn.png is a 300-dpi scan without a resolution tag, which ocrmypdf refuses
      [ "$b" != linn ] || dpi=(--image-dpi 300)
      ocrmypdf -q --deskew --clean --rotate-pages "${dpi[@]}" -l spa+eng "$f" "$pdf" 2>>"$tmp/ocrmypdf.err" ||
        log "ocrmypdf failed on $f: $(tail -n 2 "$tmp/ocrmypdf.err")"
      [ -f "$pdf" ] || continue
      np=$(pdfinfo "$pdf" | awk '/^Pages:/ {print $2}')
      if [ "$np" = 1 ]; then
        pdftotext -raw -enc UTF-8 "$pdf" "$results/linn/ocrmypdf/$b.txt"
      else
        for k in $(seq "$np"); do
          pdftotext -raw -enc UTF-8 -f "$k" -l "$k" "$pdf" "$results/linn/ocrmypdf/$b.p$k.txt"
        done
      fi
    done
  fi
fi

# ---- the table ----------------------------------------------------------------
{
  printf 'ocr_eval: %s pages (%s), %s, %s cores, load %s -> %s, run %s s\n' \
    "$n" "$(basename "$eval_dir")" "$(date -u +%F)" "$(nproc)" "$load0" \
    "$(cut -d' ' -f1-3 /proc/loadavg)" "$(calc "$(now) - $start")"
  printf 'custodia: %s; %s; ocrmypdf %s\n' \
    "$(has custodia && "$custodia" --version | head -n1 || echo -)" \
    "$(tesseract --version 2>&1 | head -n1)" "$(ocrmypdf --version 2>/dev/null || echo -)"
  printf 'commit: %s\n\n' "$(git describe --always --dirty 2>/dev/null || echo -)"
  report=(--manifest "$manifest" --results "$results")
  [ -z "$pages" ] || report+=(--pages "$pages")
  [ "$linn" != 1 ] || report+=(--linn-txt "$linn_dir/linn.txt")
  cer report "${report[@]}"
} | tee "$results/table.txt"
