#!/usr/bin/env node
// vault-bootstrap: a one-shot composition root. All logic is in runBootstrap / @fsm-certs/providers.
import { runBootstrap } from './run.js';

const code = await runBootstrap({
  argv: process.argv.slice(2),
  env: process.env,
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
process.exitCode = code;
