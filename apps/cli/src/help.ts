// The text of `fsm-certs --help`.
import { DEFAULT_KEY_ALGORITHM, KEY_ALGORITHMS } from '@fsm-certs/core';

const KEY_CHOICES = KEY_ALGORITHMS.map((a) => (a === DEFAULT_KEY_ALGORITHM ? `${a} (default)` : a)).join(', ');

export const HELP = `fsm-certs — certificate management for the service mesh

Offline (no server):
  fsm-certs ca create --out DIR [--key ALG] [--validity 87600h] [--force]
      Create a self-signed root CA: DIR/ca.crt and DIR/private.key (0600), the fsm-ca-bundle shape.
  fsm-certs cert create CN --ca-dir DIR --out DIR [--san NAME]... [--validity 24h] [--key ALG] [--csr FILE] [--force]
      Issue a leaf for CN signed by the CA in --ca-dir: cert.pem, key.pem (not with --csr), ca.pem.
      --san takes DNS names, IP addresses and URIs (spiffe://...); with --csr only the CSR's key is used.
  fsm-certs inspect FILE [--json] [--dates]
      Show subject, issuer, serial, validity, SANs, key and SHA-256 fingerprint (like openssl x509 -text).

Online (talk to the issuer-gateway):
  fsm-certs ca show [--json] | ca dates [--json]
      The live trust bundle (GET /v1/ca), every root, like openssl x509 -text -noout / -noout -dates.
  fsm-certs cert issue CN --out DIR [--san NAME]... [--validity 24h] [--key ALG] [--csr FILE] [--spiffe] [--force]
      Writes cert.pem, key.pem (0600; not with --csr), ca.pem (trusted roots), chain.pem (leaf + intermediates).
  fsm-certs cert get CN [--json]            the current certificate from the inventory
  fsm-certs cert list [--limit N] [--json]  every certificate (all pages), or the first N
  fsm-certs cert rotate CN [--out DIR]      re-issue now with the stored parameters (--out keeps the new files)
  fsm-certs cert release CN                 remove CN from the inventory; it is no longer renewed
  fsm-certs events [--from ID] [--count N]  follow announcements, one line each (id, type, CN, serial) until Ctrl-C
  fsm-certs check [--root-days 30] [--root-warn 8760h] [--grace 0s]
      Exit 1 with one line per problem when a root expires within N days or a certificate is past its
      renew time (more than --grace) or expired; exit 0 and "ok: ..." otherwise. A root expiring
      within --root-warn (default a year) is a warning naming the rotation command.
  fsm-certs ca rotate [--auto] [--propagation 10m] [--spread 1h] [--json]
      Start a staged root rotation (Tresor, admin token): a new root is trusted beside the old one.
      --auto: activate after --propagation, re-issue live leaves over --spread, retire the old root
      once nothing chains to it. See docs/operations.md.
  fsm-certs ca rotation status [--json]     stage, both roots, live leaves chaining to each
  fsm-certs ca rotation activate|retire|rollback [--force] | pause | resume [--json]
      Advance, pause or roll back the rotation by hand (--force skips the stage's condition).
  fsm-certs audit [--name CN] [--caller NAME] [--since 24h|TIME] [--limit N] [--json]
      The gateway's audit trail (admin token): one decision per line, oldest first.

Workload agent (long-running; keeps a directory's certificate fresh until SIGTERM):
  fsm-certs agent --dir DIR --name CN [--gateway URL] [--token-file FILE | --token T] [--ca-file FILE]
                  [--san NAME]... [--spiffe] [--key-mode csr|server] [--key ALG] [--validity DUR]
                  [--reload-cmd CMD | --reload-signal SIG (--reload-pid PID | --reload-pid-file FILE)]
                  [--health-addr 127.0.0.1:9097|none] [--log-level info]
      DIR/cert.pem, key.pem (0600), ca.pem, swapped atomically (DIR/..data); renewed at renewAt, on
      rotation events and trust-bundle changes; the reload hook runs after each change; GET /healthz.
      --key-mode csr (default): the key is made here and never sent; server: the gateway makes it.
      --token-file is read for every request (a projected ServiceAccount token). See docs/agent.md.

Connection (online commands), first found wins:
  --server URL --token T [--ca FILE]   flags
  FSM_CERTS_SERVER, FSM_CERTS_TOKEN, FSM_CERTS_CA   environment
  .data/endpoint.json                  written by \`npm start\` (in the current directory, $FSM_DATA_DIR, or the repo root)
  --ca FILE: PEM roots to trust for an https:// gateway (the CLI re-runs itself with NODE_EXTRA_CA_CERTS=FILE).

Options:
  --key ALG        ${KEY_CHOICES}
  --validity DUR   Go duration: 24h, 1h30m, 1.5h, 87600h
  -h, --help       this text

Errors are one line: "fsm-certs: <code>: <detail>".
Exit codes: 0 success, 1 the gateway refused (or check found problems, or unexpected error),
            2 bad input (unknown option, missing file, bad duration, no server configured), 3 gateway unreachable.
`;
