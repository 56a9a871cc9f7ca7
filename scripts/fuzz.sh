#!/usr/bin/env bash
# Fuzz every reader for a bounded time (not run by CI): scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
# Needs cargo-fuzz (`cargo install cargo-fuzz`); runs on the stable toolchain without a sanitizer.
# Seeds come from the repository's threads, the bad-input corpus and synthetic threads. A crash is
# copied to tests/fuzz-regressions/<target>-<name>, where `cargo test` replays it from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${1:-600}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(read_copied_text read_html read_json read_jsonl read_csv read_detected)
fi
command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz is missing: cargo install cargo-fuzz" >&2; exit 1; }

# Seed corpora.
cargo build --release --quiet
seeds=fuzz/corpus-seeds
rm -rf "$seeds" && mkdir -p "$seeds"/{text,html,json,table}
cp threads/clearview-ap-2024/thread.txt tests/bad-input/*.txt "$seeds/text/"
cp threads/heldout/*.html tests/bad-input/*.html "$seeds/html/"
cp tests/bad-input/*.json "$seeds/json/"
cp tests/bad-input/*.jsonl "$seeds/table/"
for n in 3 12 40; do
  ./target/release/draad synth -n $n --seed $n --format text -o "$seeds/text/synth-$n.txt" --force
  ./target/release/draad synth -n $n --seed $n --format html -o "$seeds/html/synth-$n.html" --force
  ./target/release/draad synth -n $n --seed $n --format json -o "$seeds/json/synth-$n.json" --force
done
rm -f "$seeds"/*/*.truth.tsv
printf 'id,parent,author,time,text\n1,,a,3 september 2024 10:40,Eerste reactie\n2,1,b,,"Nee, ""dat"" klopt niet"\n' > "$seeds/table/t.csv"

status=0
for t in "${targets[@]}"; do
  case $t in
    read_copied_text) seed=text ;; read_html) seed=html ;; read_json) seed=json ;;
    read_jsonl|read_csv) seed=table ;; *) seed="" ;;
  esac
  mkdir -p "fuzz/corpus/$t"
  if [ -n "$seed" ]; then cp -n "$seeds/$seed"/* "fuzz/corpus/$t/" 2>/dev/null || true; else cp -n "$seeds"/*/* "fuzz/corpus/$t/" 2>/dev/null || true; fi
  echo "== $t: $seconds s"
  # Absolute paths: the targets change to the crate root to find the models.
  mkdir -p "fuzz/artifacts/$t"
  if (cd fuzz && cargo fuzz run "$t" --sanitizer none "$root/fuzz/corpus/$t" -- -max_total_time="$seconds" \
        -max_len=262144 -timeout=20 -rss_limit_mb=4096 -artifact_prefix="$root/fuzz/artifacts/$t/" 2>&1 | grep -E "^(Done|==|SUMMARY)|panicked" | tail -5); then
    echo "== $t: no crash"
  else
    status=1
    for f in fuzz/artifacts/"$t"/*; do
      [ -f "$f" ] || continue
      cp "$f" "tests/fuzz-regressions/$t-$(basename "$f")"
      echo "== $t: crash saved as tests/fuzz-regressions/$t-$(basename "$f")"
    done
  fi
done
exit $status
