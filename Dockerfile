# syntax=docker/dockerfile:1
# One image for every app, built once (context: the repository root):
#   docker build -t fsm-certs:0.1.0 .
# The first argument picks the app (deploy/docker/app.mjs, which entrypoint.sh runs under the node
# flags of deploy/docker/node-flags): ca-service, issuer-gateway, rotation-worker, vault-bootstrap
# or cli, e.g. `docker run fsm-certs:0.1.0 vault-bootstrap --help`;
# `agent` is the workload agent sidecar (`cli agent`, docs/agent.md).
# The Helm chart (deploy/helm/fsm-certs) and docker-compose.yml run it this way.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# 1. Compile every app and the libs they reference (TypeScript project references).
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.base.json ./
COPY apps ./apps
COPY libs ./libs
COPY tools ./tools
RUN npm ci --no-audit --no-fund \
 && npx tsc -b apps/ca-service apps/issuer-gateway apps/rotation-worker apps/vault-bootstrap apps/cli

# 2. Production dependencies only, next to the compiled output (no sources, no tests).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=build /src/apps ./apps
COPY --from=build /src/libs ./libs
COPY --from=build /src/tools ./tools
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force \
 && find apps libs tools -name src -prune -type d -exec rm -rf {} + \
 && find apps libs tools \( -name '*.test.*' -o -name '*.tsbuildinfo' -o -name '*.map' \) -delete

# 3. Runtime: compiled JS + production node_modules, owned by root and run by the unprivileged
#    node user (uid 1000). Writes nothing outside /tmp and /data, so it runs with a read-only
#    root filesystem.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps --chown=root:root /app ./
# The entry: entrypoint.sh runs app.mjs under node with the flags of node-flags (V8 flags that
# NODE_OPTIONS refuses; FSM_NODE_FLAGS replaces them, docs/operations.md).
COPY --chown=root:root deploy/docker/app.mjs deploy/docker/entrypoint.sh deploy/docker/node-flags ./deploy/docker/
# /data holds the file secret store (CA bundle, key-encryption key) when no Kubernetes is used.
RUN mkdir -p /data && chown node:node /data
ENV FSM_DATA_DIR=/data
USER 1000:1000
EXPOSE 8080 8443 9090
STOPSIGNAL SIGTERM
ENTRYPOINT ["/bin/sh", "/app/deploy/docker/entrypoint.sh"]
CMD ["--help"]
