#!/usr/bin/env bash
# bench/ingest_vs_tesseract.sh [BUILD_DIR] [REPEATS]: seconds per page of
# `custodia ingest --jobs 1` against the bare `tesseract IMG out -l spa+eng`
# command, on the same scanned sample images, in one run. Prints medians
# over REPEATS runs (default 3) and their ratio.
#
# custodia's time includes everything ingest does (decode, OCR, encrypt,
# fsync the vault, index); the archive is created before the clock starts.
# Bare tesseract is run twice: as shipped (its OpenMP threads may use every
# core) and with OMP_THREAD_LIMIT=1, which is what custodia does per worker.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
repeats=${2:-3}
custodia="$build/tools/custodia"
[ -x "$custodia" ] || { echo "bench: build first (make build): $custodia not found" >&2; exit 1; }
command -v tesseract >/dev/null || { echo "bench: tesseract CLI missing: scripts/install_deps.sh" >&2; exit 1; }

images=()
pages=0
for f in samples/*.png samples/*.jpg samples/*.jpeg samples/*.tif samples/*.tiff; do
  [ -e "$f" ] || continue
  images+=("$f")
  n=$(sed -n 's/.*"pages": *\([0-9]*\).*/\1/p' "${f%.*}.expected.json" | head -n1)
  pages=$((pages + ${n:-1}))
done
[ ${#images[@]} -gt 0 ] || { echo "bench: no scanned images in samples/" >&2; exit 1; }

# The bench archive's admin key needs a passphrase; no terminal is asked.
export CUSTODIA_PASSPHRASE=${CUSTODIA_PASSPHRASE:-ingest-bench}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }
calc() { awk "BEGIN { print $1 }"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

: >"$tmp/custodia" ; : >"$tmp/tess" ; : >"$tmp/tess1"
for r in $(seq "$repeats"); do
  rm -rf "$tmp/archive"
  "$custodia" --archive "$tmp/archive" init >/dev/null
  t0=$(now)
  "$custodia" --archive "$tmp/archive" ingest --jobs 1 "${images[@]}" >/dev/null
  t1=$(now)
  calc "$t1 - $t0" >>"$tmp/custodia"

  t0=$(now)
  for f in "${images[@]}"; do tesseract "$f" "$tmp/out" -l spa+eng >/dev/null 2>&1; done
  t1=$(now)
  calc "$t1 - $t0" >>"$tmp/tess"

  t0=$(now)
  for f in "${images[@]}"; do OMP_THREAD_LIMIT=1 tesseract "$f" "$tmp/out" -l spa+eng >/dev/null 2>&1; done
  t1=$(now)
  calc "$t1 - $t0" >>"$tmp/tess1"
done

c=$(median <"$tmp/custodia"); t=$(median <"$tmp/tess"); t1=$(median <"$tmp/tess1")
printf '%d images, %d pages, %d repeats, %s (%d cores)\n' "${#images[@]}" "$pages" "$repeats" "$(date -u +%F)" "$(nproc)"
printf '%-44s %10s\n' "command" "s/page"
printf '%-44s %10.3f\n' "custodia ingest --jobs 1" "$(calc "$c / $pages")"
printf '%-44s %10.3f\n' "tesseract IMG out -l spa+eng" "$(calc "$t / $pages")"
printf '%-44s %10.3f\n' "OMP_THREAD_LIMIT=1 tesseract ... spa+eng" "$(calc "$t1 / $pages")"
printf 'ratio custodia / tesseract:                 %.2f\n' "$(calc "$c / $t")"
printf 'ratio custodia / tesseract (1 thread):      %.2f\n' "$(calc "$c / $t1")"
