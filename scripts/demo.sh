#!/usr/bin/env bash
# scripts/demo.sh BUILD_DIR: the main job on the bundled samples, end to end:
# create an archive, ingest samples/, search, show a document, export it back
# byte for byte, lend it out and back, sign a checkpoint and a proof, and
# verify the archive against them.
set -euo pipefail
build=${1:-build}
custodia="$build/tools/custodia"
archive="$build/demo-archive"
export CUSTODIA_ARCHIVE="$archive"
# The demo's archive belongs to the demo: a fixed passphrase for its first
# user (admin), so that it runs without questions. Never do this for real.
export CUSTODIA_PASSPHRASE="${CUSTODIA_PASSPHRASE:-demo passphrase}"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

rm -rf "$archive"   # the demo's own archive from an earlier run
step custodia init
"$custodia" init

step custodia ingest samples/
"$custodia" ingest samples/ || { echo "demo: some samples failed to ingest (see above)"; exit 1; }

step custodia search facturacion
"$custodia" search facturacion

step custodia search '"orden de transferencia" OR nomina'
"$custodia" search '"orden de transferencia" OR nomina'

step custodia search 'tipo:factura fecha:2024..2024' --sort importe --facets --no-snippets
"$custodia" search 'tipo:factura fecha:2024..2024' --sort importe --facets --no-snippets

id=$("$custodia" --json search factura --limit 1 | sed -n 's/.*"id":"\([^"]*\)".*/\1/p' | head -n1)
if [ -z "$id" ]; then echo "demo: search found no factura"; exit 1; fi
step custodia show "$id"
"$custodia" show "$id" | head -n 30

src=$("$custodia" --json show "$id" | sed -n 's/.*"source":"\([^"]*\)".*/\1/p')
step custodia export "$id" --out "$build/demo-export" --force
"$custodia" export "$id" --out "$build/demo-export" --force
cmp "$src" "$build/demo-export" && echo "export is byte-identical to $src"

step custodia checkout "$id" --to "Ana López" --due 2030-12-31 --reason "revisión de expediente"
"$custodia" checkout "$id" --to "Ana López" --due 2030-12-31 --reason "revisión de expediente"
"$custodia" loans
step custodia return "$id"
"$custodia" return "$id" --note "devuelto completo"

step custodia checkpoint --out "$build/demo-checkpoint.txt"
"$custodia" checkpoint --out "$build/demo-checkpoint.txt"
step custodia prove "$id" --out "$build/demo-proof.txt"
"$custodia" prove "$id" --out "$build/demo-proof.txt" >/dev/null && echo "(written to $build/demo-proof.txt)"

step custodia log
"$custodia" log | tail -n 8

step custodia verify --checkpoint "$build/demo-checkpoint.txt" --proof "$build/demo-proof.txt" --id "$id"
"$custodia" verify --checkpoint "$build/demo-checkpoint.txt" --proof "$build/demo-proof.txt" --id "$id"
