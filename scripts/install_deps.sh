#!/usr/bin/env bash
# scripts/install_deps.sh: installs every Debian 12 package custodia builds,
# tests and benchmarks with. Idempotent: does nothing when all are present.
#   scripts/install_deps.sh            build, run and test
#   scripts/install_deps.sh --samples  also what samples/generate.py needs
#   scripts/install_deps.sh --bench    also what bench/ocr_eval.sh needs: the
#                                      generator's packages, ocrmypdf, unpaper,
#                                      poppler-utils (pdftotext, pdftoppm)
#   scripts/install_deps.sh --fuzz     also clang and libFuzzer (scripts/fuzz.sh)
set -euo pipefail

packages=(
  build-essential cmake pkg-config make
  libtesseract-dev libleptonica-dev
  tesseract-ocr tesseract-ocr-spa tesseract-ocr-eng tesseract-ocr-osd
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev
  libpoppler-cpp-dev libxapian-dev libsodium-dev libqpdf-dev
  libgtest-dev libgmock-dev libxml2-dev
  libcli11-dev nlohmann-json3-dev libre2-dev libtomlplusplus-dev libzxing-dev
)
samples=(python3 python3-reportlab python3-pil python3-numpy fonts-dejavu-core)
case "${1:-}" in
  --samples) packages+=("${samples[@]}") ;;
  --bench) packages+=("${samples[@]}" ocrmypdf unpaper poppler-utils) ;;
  --fuzz) packages+=(python3 clang libclang-rt-14-dev) ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install_deps: missing packages: ${missing[*]}" >&2
  echo "install_deps: run as root (or with sudo) to install them" >&2
  exit 1
fi
echo "install_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
