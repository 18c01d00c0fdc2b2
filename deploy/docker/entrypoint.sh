#!/bin/sh
# The image's entry point: runs app.mjs (which picks the app from the first argument) under node
# with the flags of node-flags beside it, or with FSM_NODE_FLAGS instead when that is set, even
# empty (node's defaults). exec: node becomes the container's PID 1 and receives SIGTERM itself.
set -eu
here=$(dirname "$0")
if [ "${FSM_NODE_FLAGS+set}" = set ]; then
  flags=$FSM_NODE_FLAGS
else
  # The file's words without comments; plain sh, so the slim base image needs nothing more.
  flags=
  while IFS= read -r line || [ -n "$line" ]; do
    flags="$flags ${line%%#*}"
  done < "$here/node-flags"
fi
# One flag per word, split on purpose (no quotes), with pathname expansion off.
set -f
# shellcheck disable=SC2086
exec node $flags "$here/app.mjs" "$@"
