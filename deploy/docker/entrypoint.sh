#!/bin/sh
# The image's entry point: runs app.mjs (which picks the app from the first argument) under node
# with the flags of node-flags beside it, or FSM_NODE_FLAGS when set (even empty). exec: node is
# the container's PID 1 and receives SIGTERM itself.
set -eu
here=$(dirname "$0")
if [ "${FSM_NODE_FLAGS+set}" = set ]; then
  flags=$FSM_NODE_FLAGS
else
  flags=$(sed -e 's/#.*//' "$here/node-flags")
fi
# One flag per word, unquoted on purpose; no glob expansion of the words.
set -f
# shellcheck disable=SC2086
exec node $flags "$here/app.mjs" "$@"
