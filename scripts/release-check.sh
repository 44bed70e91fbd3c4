#!/usr/bin/env bash
# Proves a release the way users will meet it. Starts a throwaway Verdaccio on loopback, versions every
# publishable package with changesets and publishes it there (in a temporary copy of the repo: nothing in the repo
# changes), then in temporary apps outside the workspace, with plain npm, for each package:
#   - installs it alone at its exact version and checks the tree (@mq/core pulls nothing, @mq/mqtt no amqplib, ...);
#   - imports it from ESM, requires it from CJS, type-checks a small app against it (tsc, module nodenext);
#   - for a backend, sends and receives one message through the broker on this machine (memory: in-process).
# Then runs examples/custom-backend's tests against the published @mq/testkit and @mq/core.
# Private packages are skipped. The registry stops and the temp dir is removed whatever happens.
#
# Env: MQ_TEST_AMQP_URL, MQ_TEST_MQTT_URL (brokers), MQ_RELEASE_CHECK_KEEP=1 (keep the temp dir to debug).
# Needs: git, node, pnpm, npm, and the workspace installed (pnpm install) for tsc and @types/node.
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
here="$root/scripts/release-check"
# Run as `pnpm release:check`, this inherits pnpm's npm_config_* variables, and npm_config_registry would beat
# the apps' .npmrc. Keep the configured registry as Verdaccio's uplink, then drop them all.
uplink="$(npm config get registry 2>/dev/null)"
[ -n "$uplink" ] && [ "$uplink" != undefined ] || uplink=https://registry.npmjs.org/
while read -r var; do unset "$var"; done < <(compgen -e | grep -i '^npm_config_')
export TURBO_TELEMETRY_DISABLED=1 NO_UPDATE_NOTIFIER=1 npm_config_update_notifier=false
export npm_config_audit=false npm_config_fund=false FORCE_COLOR=0 NO_COLOR=1

tmp="$(mktemp -d "${TMPDIR:-/tmp}/mq-release-check.XXXXXX")"
registry_pid=''
watchdog_pid=''
registry_install_pid=''
cleanup() {
  local rc=$?
  [ -n "$registry_install_pid" ] && kill "$registry_install_pid" 2>/dev/null && wait "$registry_install_pid" 2>/dev/null
  [ -n "$watchdog_pid" ] && kill "$watchdog_pid" 2>/dev/null
  if [ -n "$registry_pid" ] && kill -0 "$registry_pid" 2>/dev/null; then
    kill "$registry_pid" 2>/dev/null
    wait "$registry_pid" 2>/dev/null
    echo "registry stopped"
  fi
  if [ "${MQ_RELEASE_CHECK_KEEP:-}" = 1 ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

say() { printf '\n=== %s (%ss)\n' "$1" "$SECONDS"; }
die() {
  echo "release-check: $*" >&2
  exit 1
}
# run LOG CMD...: runs CMD with its output in LOG; on failure prints the end of LOG.
run() {
  local log=$1
  shift
  "$@" >"$log" 2>&1 && return 0
  local rc=$?
  echo "--- failed ($rc): $*"
  tail -n 40 "$log" | sed 's/^/    /'
  return "$rc"
}

summary=()
failures=0
# record LABEL STATUS DETAIL
record() {
  summary+=("$(printf '%-22s %-8s %s' "$1" "$2" "$3")")
  [ "$2" = FAIL ] && failures=$((failures + 1))
  return 0
}

command -v pnpm >/dev/null || die "pnpm is not on PATH"
[ -x "$root/node_modules/.bin/tsc" ] || die "run pnpm install first (tsc is missing)"
git -C "$root" rev-parse --git-dir >/dev/null 2>&1 || die "$root is not a git checkout"

say "registry: install Verdaccio (pinned in scripts/release-check/verdaccio, in the background)"
mkdir -p "$tmp/registry" "$tmp/logs" "$tmp/apps"
cp "$here/verdaccio/package.json" "$here/verdaccio/package-lock.json" "$tmp/registry/"
# Verdaccio comes from the public registry, like every dependency; npm's cache makes reruns quick.
(cd "$tmp/registry" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error) \
  >"$tmp/logs/registry-install.log" 2>&1 &
registry_install_pid=$!

say "copy the repo (tracked and untracked files, .gitignore respected) and install it"
copy="$tmp/repo"
mkdir -p "$copy"
(cd "$root" && git ls-files -z --cached --others --exclude-standard |
  tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$copy" ||
  die "could not copy the repo"
cd "$copy" || die "no copy"
run "$tmp/logs/install.log" pnpm install --frozen-lockfile --prefer-offline --reporter=append-only ||
  die "pnpm install --frozen-lockfile failed in the copy"

publishable=()
for manifest in packages/*/package.json; do
  read -r name private < <(node -p 'const p = require(process.argv[1]); `${p.name} ${p.private === true}`' "$copy/$manifest")
  if [ "$private" = true ]; then
    echo "skipped: $name is private (not released yet)"
    record "$name" skipped "private (not released yet)"
  else
    publishable+=("$name")
  fi
done
[ "${#publishable[@]}" -gt 0 ] || die "no publishable package under packages/"
echo "publishable: ${publishable[*]}"

say "changeset version"
before="$(node -p 'JSON.stringify(Object.fromEntries(process.argv.slice(1).map((f) => { const p = require(f); return [p.name, p.version]; })))' "$copy"/packages/*/package.json)"
run "$tmp/logs/version.log" pnpm changeset version || die "changeset version failed"
declare -A version=()
plan=()
for manifest in packages/*/package.json; do
  read -r name v < <(node -p 'const p = require(process.argv[1]); `${p.name} ${p.version}`' "$copy/$manifest")
  version[$name]=$v
  old="$(node -p 'JSON.parse(process.argv[1])[process.argv[2]]' "$before" "$name")"
  plan+=("$name $old -> $v")
done
printf '  %s\n' "${plan[@]}"

say "build the publishable packages"
filters=()
for name in "${publishable[@]}"; do filters+=("--filter=$name"); done
run "$tmp/logs/build.log" pnpm exec turbo run build "${filters[@]}" --output-logs=errors-only || die "build failed"

say "start the registry"
installed=0
wait "$registry_install_pid" && installed=1
registry_install_pid=''
[ "$installed" = 1 ] || {
  tail -n 40 "$tmp/logs/registry-install.log"
  die "installing Verdaccio failed"
}
free_port() {
  node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}
start_registry() {
  port="$(free_port)"
  cat >"$tmp/registry/config.yaml" <<EOF
storage: $tmp/registry/storage
auth:
  htpasswd:
    file: $tmp/registry/htpasswd
    max_users: -1
uplinks:
  npmjs:
    url: $uplink
    cache: false
packages:
  '@mq/*':
    access: \$all
    publish: \$all
  '**':
    access: \$all
    proxy: npmjs
web:
  enable: false
log: { type: stdout, format: pretty, level: warn }
EOF
  "$tmp/registry/node_modules/.bin/verdaccio" --config "$tmp/registry/config.yaml" --listen "127.0.0.1:$port" \
    >"$tmp/logs/registry.log" 2>&1 &
  registry_pid=$!
  for _ in $(seq 1 150); do
    if curl -sf "http://127.0.0.1:$port/-/ping" >/dev/null 2>&1; then return 0; fi
    kill -0 "$registry_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill "$registry_pid" 2>/dev/null
  wait "$registry_pid" 2>/dev/null
  registry_pid=''
  return 1
}
started=0
for _ in 1 2 3; do
  if start_registry; then
    started=1
    break
  fi
done
[ "$started" = 1 ] || {
  tail -n 20 "$tmp/logs/registry.log"
  die "Verdaccio did not start"
}
registry="http://127.0.0.1:$port/"
# Stops the registry (and removes the temp dir) even if this script is killed with SIGKILL, when the EXIT trap
# cannot run.
(
  while kill -0 $$ 2>/dev/null; do sleep 2; done
  kill "$registry_pid" 2>/dev/null
  [ "${MQ_RELEASE_CHECK_KEEP:-}" = 1 ] || rm -rf "$tmp"
) </dev/null >/dev/null 2>&1 &
watchdog_pid=$!
echo "Verdaccio $("$tmp/registry/node_modules/.bin/verdaccio" --version) on $registry (uplink for all but @mq/*: $uplink)"

say "changeset publish to $registry"
# Verdaccio lets anyone publish @mq/* here; npm still wants a token to send.
printf 'registry=%s\n//127.0.0.1:%s/:_authToken=release-check\n' "$registry" "$port" >>"$copy/.npmrc"
git init -q -b main && git add -A && git -c user.name=release-check -c user.email=release-check@localhost \
  commit -qm "release check" || die "git init in the copy failed"
npm_config_registry="$registry" run "$tmp/logs/publish.log" pnpm changeset publish || die "changeset publish failed"
grep -E 'New tag|published' "$tmp/logs/publish.log" | sed 's/^/  /'
for name in "${publishable[@]}"; do
  got="$(npm view "$name@${version[$name]}" version --registry "$registry" 2>/dev/null)"
  [ "$got" = "${version[$name]}" ] || die "$name@${version[$name]} is not on the registry after publish"
done

# check_package NAME: a fresh app that installs NAME alone, then tree, ESM, CJS, types, broker.
check_package() {
  local name=$1 v=${version[$1]} app="$tmp/apps/${1//[@\/]/_}" log status=ok notes=()
  log="$app.log"
  mkdir -p "$app"
  printf '{ "name": "release-check-app", "version": "1.0.0", "private": true }\n' >"$app/package.json"
  printf 'registry=%s\n' "$registry" >"$app/.npmrc"
  cp "$here/roundtrip.cjs" "$here/smoke.mjs" "$here/smoke.cjs" "$app/"
  cd "$app" || return 1
  echo "--- $name@$v"
  fail() {
    status=FAIL
    notes+=("$1 FAILED")
  }
  if ! run "$log" npm install --registry "$registry" --save-exact "$name@$v"; then
    record "$name@$v" FAIL "npm install failed"
    return
  fi
  pinned="$(node -p "require('./package.json').dependencies['$name']")"
  [ "$pinned" = "$v" ] && notes+=("pinned $v") || {
    echo "package.json has $name: $pinned, not the exact $v"
    fail pin
  }
  npm ls --all --json 2>/dev/null >tree.json
  if node "$here/tree.cjs" "$name" <tree.json; then notes+=(tree); else fail tree; fi
  if run "$log" timeout 45 node smoke.mjs "$name" exports.json; then
    cat "$log"
    notes+=(ESM)
    grep -q 'round trip ok' "$log" && notes+=("ESM round trip")
  else fail ESM; fi
  if node -e 'const e = require(process.argv[1]).exports["."]; process.exit(typeof e === "object" && "require" in e ? 0 : 1)' \
    "$app/node_modules/$name/package.json"; then
    if run "$log" timeout 45 node smoke.cjs "$name"; then
      cat "$log"
      notes+=(CJS)
      grep -q 'round trip ok' "$log" && notes+=("CJS round trip")
    else fail CJS; fi
  else
    echo "CJS: not offered (exports has no require condition)"
    notes+=("no CJS (ESM-only)")
  fi
  if [ -f exports.json ] && node "$here/types.cjs" "$name" exports.json "$copy/node_modules/@types" "$app"; then
    "$copy/node_modules/.bin/tsc" -p "$app" --pretty false >tsc.log 2>&1
    if node "$here/tsc-errors.cjs" <tsc.log >tsc-errors.log; then
      notes+=(types)
      if [ -s tsc-errors.log ]; then
        cat tsc-errors.log
        notes+=("(third-party .d.ts errors with skipLibCheck false)")
      fi
    else
      head -n 40 tsc.log | sed 's/^/    /'
      fail types
    fi
  else fail types; fi
  record "$name@$v" "$status" "$(printf '%s, ' "${notes[@]}" | sed 's/, $//')"
}

for name in "${publishable[@]}"; do
  say "$name@${version[$name]} alone in a fresh app"
  check_package "$name"
done

# check_custom_backend: the third-party example, copied out of the workspace, installs @mq/testkit and @mq/core
# from the registry and runs its own test command.
check_custom_backend() {
  local ext="$tmp/outside" log="$tmp/logs/custom-backend.log" pairs=() n dep linked=''
  if [ ! -d "$copy/examples/custom-backend" ]; then
    echo "skipped: examples/custom-backend does not exist yet"
    record custom-backend skipped "examples/custom-backend does not exist yet"
    return
  fi
  # Keep the example's place relative to tsconfig.base.json, which its tsconfig may extend; nothing else of the
  # workspace comes along, and there is no pnpm-workspace.yaml above it.
  mkdir -p "$ext/examples"
  cp "$copy/tsconfig.base.json" "$ext/"
  cp -r "$copy/examples/custom-backend" "$ext/examples/"
  cd "$ext/examples/custom-backend" || return 1
  rm -rf node_modules dist
  printf 'registry=%s\n' "$registry" >.npmrc
  # workspace:^ and workspace:* become the released versions, as pnpm publish would write them.
  for n in "${publishable[@]}"; do pairs+=("$n=${version[$n]}"); done
  if ! node "$here/workspace-deps.cjs" package.json "${pairs[@]}"; then
    record custom-backend FAIL "depends on a package that is not published"
    return
  fi
  if ! run "$log" npm install --registry "$registry"; then
    record custom-backend FAIL "npm install failed"
    return
  fi
  for dep in @mq/testkit @mq/core; do
    if [ -L "node_modules/$dep" ] || [ ! -f "node_modules/$dep/package.json" ]; then linked="$linked $dep"; fi
  done
  if [ -n "$linked" ]; then
    record custom-backend FAIL "not installed from the registry:$linked"
    return
  fi
  echo "installed from $registry: $(npm ls --depth=0 2>/dev/null | grep -oE '(@mq/[a-z-]+|vitest)@[^ ]+' | tr '\n' ' ')"
  if run "$log" timeout 300 npm test; then
    grep -E 'Test Files|Tests ' "$log" | sed 's/^/  /'
    record custom-backend ok "npm test passed against the published @mq/testkit and @mq/core"
  else
    record custom-backend FAIL "npm test failed"
  fi
}

say "examples/custom-backend against the published packages"
check_custom_backend

say "summary"
echo "registry: Verdaccio on $registry, stopped on exit"
echo "versions (changeset version):"
printf '  %s\n' "${plan[@]}"
printf '%s\n' "${summary[@]}"
echo "took ${SECONDS}s"
if [ "$failures" -gt 0 ]; then
  echo "RESULT: FAIL ($failures)"
  exit 1
fi
echo "RESULT: PASS"
