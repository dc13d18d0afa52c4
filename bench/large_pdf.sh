#!/usr/bin/env bash
# bench/large_pdf.sh: issue 4's "Throughput and memory" on long PDFs, in one run.
#   1. born-digital: a PDF of N pages that all carry a text layer (the
#      samples' born-digital PDFs joined by pdfunite, cycled) ingested with
#      the default --jobs: pages per second (target >= 50) and peak RSS;
#   2. scanned: a PDF of N scanned pages (samples/04_nomina_scan.pdf, a
#      300-dpi JPEG page, joined N times: every page is a full decode,
#      cleanup and OCR) ingested with --jobs J: seconds per page, peak RSS
#      (target <= 400 MB) and how many workers read its pages.
# Peak RSS is GNU time's "Maximum resident set size" of the custodia process
# (the re-executed one: custodia execs itself once to set OMP_THREAD_LIMIT,
# which keeps the process and its RSS high-water mark).
#
# Usage: bench/large_pdf.sh [--pages N] [--scanned-pages N] [--jobs J]
#                           [--custodia PATH] [--skip-scanned]
#   defaults: --pages 500 --scanned-pages 500 --jobs (cores)
# Needs pdfunite (poppler-utils) and GNU time: scripts/install_deps.sh --bench.
# The 500-page scanned run takes about (500 x 2.5 s / cores): 10 minutes on 2.
set -euo pipefail
cd "$(dirname "$0")/.."

pages=500
scanned_pages=500
jobs=$(nproc)
custodia=${CUSTODIA_BIN:-build/tools/custodia}
scanned=1
while [ $# -gt 0 ]; do
  case "$1" in
    --pages) pages=$2; shift 2 ;;
    --scanned-pages) scanned_pages=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --custodia) custodia=$2; shift 2 ;;
    --skip-scanned) scanned=0; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "large_pdf.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$custodia" ] || { echo "large_pdf.sh: build first (make build): $custodia not found" >&2; exit 1; }
command -v pdfunite >/dev/null || { echo "large_pdf.sh: pdfunite missing: scripts/install_deps.sh --bench" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "large_pdf.sh: GNU time missing: apt-get install time" >&2; exit 1; }

export CUSTODIA_PASSPHRASE=${CUSTODIA_PASSPHRASE:-large-pdf-bench}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Joins copies of the given PDFs, cycling, until the result has `want` pages.
build_pdf() {
  local out=$1 want=$2; shift 2
  local list=() have=0 i=0
  local sources=("$@")
  while [ "$have" -lt "$want" ]; do
    local f=${sources[$((i % ${#sources[@]}))]}
    local n
    n=$(pdfinfo "$f" | awk '/^Pages:/ {print $2}')
    list+=("$f"); have=$((have + n)); i=$((i + 1))
  done
  pdfunite "${list[@]}" "$out"
  pdfinfo "$out" | awk '/^Pages:/ {print $2}'
}

# Runs one ingest under GNU time; prints "seconds rss_kb" and keeps the JSON.
run_ingest() {
  local pdf=$1 j=$2 name=$3
  rm -rf "$tmp/archive_$name"
  "$custodia" --archive "$tmp/archive_$name" init >/dev/null
  /usr/bin/time -f "%e %M" -o "$tmp/time_$name" \
    "$custodia" --archive "$tmp/archive_$name" --json ingest --jobs "$j" "$pdf" \
    >"$tmp/out_$name.json" 2>"$tmp/err_$name" || {
      echo "large_pdf.sh: ingest failed:" >&2; cat "$tmp/err_$name" "$tmp/out_$name.json" >&2; exit 1; }
  cat "$tmp/time_$name"
}

echo "large_pdf.sh: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
born=()
for f in samples/*.pdf; do
  grep -q '"degradation": null' "${f%.pdf}.expected.json" 2>/dev/null && born+=("$f")
done
n=$(build_pdf "$tmp/born.pdf" "$pages" "${born[@]}")
size=$(stat -c %s "$tmp/born.pdf")
read -r secs rss < <(run_ingest "$tmp/born.pdf" "$jobs" born)
ocr=$(sed -n 's/.*"ocr_pages": *\([0-9]*\).*/\1/p' "$tmp/out_born.json")
printf '%-44s %s\n' "born-digital PDF:" "$n pages, $((size / 1024)) KiB, ${ocr:-?} pages OCR'd"
printf '%-44s %s\n' "  ingest --jobs $jobs wall:" "$secs s"
printf '%-44s %s\n' "  pages per second (target >= 50):" "$(awk "BEGIN {printf \"%.1f\", $n / $secs}")"
printf '%-44s %s\n' "  peak RSS:" "$((rss / 1024)) MB"

if [ "$scanned" = 1 ]; then
  n=$(build_pdf "$tmp/scan.pdf" "$scanned_pages" samples/04_nomina_scan.pdf)
  size=$(stat -c %s "$tmp/scan.pdf")
  read -r secs rss < <(run_ingest "$tmp/scan.pdf" "$jobs" scan)
  workers=$(sed -n 's/.*"workers": *\([0-9]*\).*/\1/p' "$tmp/out_scan.json")
  ocr=$(sed -n 's/.*"ocr_pages": *\([0-9]*\).*/\1/p' "$tmp/out_scan.json")
  printf '%-44s %s\n' "scanned PDF:" "$n pages, $((size / 1024 / 1024)) MiB, ${ocr:-?} pages OCR'd"
  printf '%-44s %s\n' "  ingest --jobs $jobs wall:" "$secs s ($(awk "BEGIN {printf \"%.2f\", $secs / $n}") s/page)"
  printf '%-44s %s\n' "  workers that read its pages:" "${workers:-?}"
  printf '%-44s %s\n' "  peak RSS (target <= 400 MB):" "$((rss / 1024)) MB"
fi
