#!/usr/bin/env bash
# scripts/check_layering.sh: fails when a module includes another outside the
# dependency graph of DESIGN.md:
#   tools -> pipeline -> {capture, ocr, classify, index, vault} -> base
# and only through the other module's public header (<module>/<module>.h),
# except base, whose headers are all public.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A allowed=(
  [base]=""
  [capture]="base" [ocr]="base" [classify]="base" [index]="base" [vault]="base"
  [pipeline]="base capture ocr classify index vault"
  [tools]="base pipeline"
  [tests]="base pipeline"
)
status=0
for module in "${!allowed[@]}"; do
  [ -d "$module" ] || continue
  while IFS= read -r line; do
    file=${line%%:*}
    inc=$(sed -n 's/.*#include "\([a-z_]*\)\/\([a-z_]*\.h\)".*/\1 \2/p' <<<"${line#*:}")
    [ -n "$inc" ] || continue
    dep=${inc% *}; header=${inc#* }
    [ "$dep" = "$module" ] && continue
    # Unit tests may use the shared test helpers.
    [ "$dep" = tests ] && [[ "$file" == *_test.cc ]] && continue
    # ... and the vault's identity file format, to write a key file with
    # cheap password hashing (fault loops log in hundreds of times).
    [ "$dep/$header" = vault/identity.h ] && [[ "$file" == *_test.cc ]] && continue
    if [[ " ${allowed[$module]} " != *" $dep "* ]]; then
      echo "layering: $file includes $dep/$header, but $module may not depend on $dep"
      status=1
    elif [ "$dep" != base ] && [ "$header" != "$dep.h" ]; then
      echo "layering: $file includes $dep/$header, an internal header; include $dep/$dep.h"
      status=1
    fi
  done < <(grep -rn '#include "' "$module" --include='*.h' --include='*.cc' || true)
done
# No third-party type in a public header (STYLE.md 3.2).
for header in base/*.h capture/capture.h ocr/ocr.h classify/classify.h index/index.h \
              vault/vault.h pipeline/pipeline.h; do
  [ -f "$header" ] || continue
  if grep -nE '#include <(tesseract|leptonica|opencv|xapian|sodium|poppler|CLI|nlohmann|re2)' "$header"; then
    echo "layering: $header is a public header and includes a third-party header"
    status=1
  fi
done
[ $status -eq 0 ] && echo "layering: ok"
exit $status
