#!/usr/bin/env bash
# Install the system programs infopack needs, with apt, only where they are missing.
#   scripts/system-deps.sh demo   ffmpeg (and minisign, to show an independent check)
#   scripts/system-deps.sh test   everything the tests use
set -euo pipefail
mode=${1:-demo}

declare -A pkg_for=(
  [ffmpeg]=ffmpeg [ffprobe]=ffmpeg [minisign]=minisign [exiftool]=libimage-exiftool-perl
  [mkfs.fat]=dosfstools [fsck.fat]=dosfstools [mcopy]=mtools [tesseract]=tesseract-ocr
  [fc-list]=fontconfig [sha256sum]=coreutils [chromium]=chromium [mpg123]=mpg123
  [pdftotext]=poppler-utils [pdfinfo]=poppler-utils [pdftoppm]=poppler-utils [qpdf]=qpdf
)
tools=(ffmpeg ffprobe minisign)
[ "$mode" = test ] && tools+=(exiftool mkfs.fat fsck.fat mcopy tesseract fc-list chromium mpg123 pdftotext pdfinfo
                             pdftoppm qpdf)

missing=()
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${pkg_for[$tool]}")
done
if [ "$mode" = test ]; then
  # Data packages that no command reveals: a Korean font for burned-in subtitles, Korean OCR.
  fc-list 2>/dev/null | grep -qi nanum || missing+=(fonts-nanum)
  perl -MArchive::Zip -e 1 2>/dev/null || missing+=(libarchive-zip-perl)     # exiftool reads EPUB metadata with it
  [ -e /usr/share/tesseract-ocr/5/tessdata/kor.traineddata ] || ls /usr/share/tesseract-ocr/*/tessdata/kor.traineddata >/dev/null 2>&1 || missing+=(tesseract-ocr-kor)
  # util-linux's sfdisk/fdisk read the images' partition tables; /usr/sbin is not on every PATH.
  command -v sfdisk >/dev/null 2>&1 || [ -x /usr/sbin/sfdisk ] || missing+=(fdisk)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
if ! command -v apt-get >/dev/null 2>&1; then
  echo "infopack: please install: ${missing[*]} (no apt-get on this machine)" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing with apt: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
