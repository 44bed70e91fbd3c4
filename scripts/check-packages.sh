#!/usr/bin/env bash
# Checks what each publishable package would put on npm: `pnpm pack` it (pnpm, not npm, so workspace:* ranges
# become real versions), then run `publint --strict` and `attw` on the tarball. Private packages are skipped
# (they are not released yet). Needs the packages built (`pnpm build`). Exits 1 if any package has a problem.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

bin="$root/node_modules/.bin"
for tool in publint attw; do
  if [ ! -x "$bin/$tool" ]; then
    echo "check-packages: $bin/$tool is missing; run pnpm install first" >&2
    exit 2
  fi
done

tmp="$(mktemp -d "${TMPDIR:-/tmp}/mq-check-packages.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

failed=()
passed=()
skipped=()

for dir in packages/*/; do
  dir="${dir%/}"
  [ -f "$dir/package.json" ] || continue
  read -r name private esm_only < <(node -e '
    const p = require(process.argv[1]);
    const root = p.exports?.["."];
    const esmOnly = typeof root === "object" && root !== null && !("require" in root);
    console.log(p.name, p.private === true ? "private" : "public", esmOnly ? "esm-only" : "dual");
  ' "$root/$dir/package.json")
  if [ "$private" = private ]; then
    echo "skipped: $name is private (not released yet)"
    skipped+=("$name")
    continue
  fi
  echo
  echo "=== $name ($dir)"
  if [ ! -d "$dir/dist" ]; then
    echo "FAIL: $dir/dist is missing; run pnpm build first"
    failed+=("$name (not built)")
    continue
  fi
  out="$tmp/${name//[@\/]/_}"
  mkdir -p "$out"
  if ! (cd "$dir" && pnpm pack --pack-destination "$out" >"$out/pack.log" 2>&1); then
    cat "$out/pack.log"
    failed+=("$name (pnpm pack)")
    continue
  fi
  tgz="$(ls "$out"/*.tgz)"
  ok=1
  echo "--- publint --strict $(basename "$tgz")"
  "$bin/publint" --strict "$tgz" || ok=0
  # --format ascii: the default table needs a wide terminal and is unreadable in CI logs. A package whose
  # exports offer no require condition is ESM-only on purpose (like @mq/testkit, since vitest cannot be required):
  # attw then checks it with the esm-only profile instead of flagging CJS resolution.
  profile=()
  [ "$esm_only" = esm-only ] && profile=(--profile esm-only)
  echo "--- attw ${profile[*]} $(basename "$tgz")"
  "$bin/attw" --format ascii ${profile[@]+"${profile[@]}"} "$tgz" || ok=0
  if [ "$ok" = 1 ]; then passed+=("$name"); else failed+=("$name"); fi
done

echo
echo "=== check-packages summary"
for p in ${passed[@]+"${passed[@]}"}; do echo "ok       $p"; done
for p in ${skipped[@]+"${skipped[@]}"}; do echo "skipped  $p (private)"; done
for p in ${failed[@]+"${failed[@]}"}; do echo "FAILED   $p"; done
if [ "${#passed[@]}" -eq 0 ] && [ "${#failed[@]}" -eq 0 ]; then
  echo "FAILED   no publishable package found under packages/"
  exit 1
fi
[ "${#failed[@]}" -eq 0 ]
