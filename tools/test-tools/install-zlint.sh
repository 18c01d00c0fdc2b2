#!/usr/bin/env bash
# Installs zlint, the certificate linter the x509 suite checks our certificates with (RFC 5280,
# 5480, 3279, 5891, 8813 lints), pinned, built from its Go module into .tools/bin (git-ignored),
# never globally. Needs Go >= 1.25 on PATH (zlint's go.mod). Idempotent: a second run only checks
# the version recorded in the binary.
#   tools/test-tools/install-zlint.sh        # called by .ci/run; run it once after `npm ci`
set -euo pipefail

VERSION=v3.7.3
MODULE=github.com/zmap/zlint/v3
root=$(cd "$(dirname "$0")/../.." && pwd)
bin="$root/.tools/bin"
zlint="$bin/zlint"
say() { printf '[zlint] %s\n' "$*"; }

command -v go >/dev/null 2>&1 || { say "go (>= 1.25) is needed to build zlint; install Go, then re-run $0"; exit 1; }

installed_version() { go version -m "$zlint" 2>/dev/null | awk -v m="$MODULE" '$1 == "mod" && $2 == m { print $3 }'; }

if [ -x "$zlint" ] && [ "$(installed_version)" = "$VERSION" ]; then
  say "zlint $VERSION already installed: $zlint"
  exit 0
fi

mkdir -p "$bin"
started=$(date +%s)
say "go install $MODULE/cmd/zlint@$VERSION into $bin"
# GOTOOLCHAIN=local: build with the Go that is here rather than fetching another toolchain.
GOBIN="$bin" GOTOOLCHAIN=local GOFLAGS=-buildvcs=false go install "$MODULE/cmd/zlint@$VERSION"

got=$(installed_version)
if [ "$got" != "$VERSION" ]; then
  say "expected zlint $VERSION, $zlint records '${got:-nothing}'"
  exit 1
fi
say "installed zlint $VERSION in $(( $(date +%s) - started ))s: $zlint"
