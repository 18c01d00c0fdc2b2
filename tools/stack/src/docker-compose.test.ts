// docker-compose.yml must parse with a real compose tool and wire the system as documented.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { repoRoot } from './app-process.js';

const composeFile = path.join(repoRoot(), 'docker-compose.yml');
const serviceSchema = z.object({
  image: z.string().optional(),
  build: z.object({ context: z.string(), dockerfile: z.string() }).optional(),
  command: z.array(z.string()).optional(),
  entrypoint: z.unknown().optional(),
  read_only: z.boolean().optional(),
  environment: z.record(z.string(), z.union([z.string(), z.number()]).nullable()).optional(),
  depends_on: z.record(z.string(), z.object({ condition: z.string() })).optional(),
});
const composeSchema = z.object({ services: z.record(z.string(), serviceSchema) });

/** The file as a compose tool resolves it (anchors, merges, variables), or undefined without one. */
function resolvedByComposeTool(): { tool: string; text: string } | undefined {
  for (const [tool, args] of [
    ['docker-compose', ['-f', composeFile, 'config']],
    ['docker', ['compose', '-f', composeFile, 'config']],
  ] as const) {
    const res = spawnSync(tool, args, { encoding: 'utf8' });
    if (res.status === 0) return { tool, text: res.stdout };
  }
  return undefined;
}

const resolved = resolvedByComposeTool();
const source = resolved?.text ?? readFileSync(composeFile, 'utf8');

describe(`docker-compose.yml (${resolved ? `resolved by ${resolved.tool}` : 'no compose tool on PATH: parsed as YAML'})`, () => {
  const compose = composeSchema.parse(parse(source, { merge: true }));

  it('has every part of the system, each app run from the one image with its name as the command', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['ca-service', 'issuer-gateway', 'redis', 'rotation-worker', 'vault', 'vault-bootstrap']);
    for (const app of ['ca-service', 'issuer-gateway', 'rotation-worker', 'vault-bootstrap']) {
      const service = compose.services[app];
      expect(service?.build?.dockerfile).toBe('Dockerfile');
      expect(service?.image).toBe('fsm-certs:local');
      expect(service?.command).toEqual([app]);
      // The image's own entry point, which passes the node flags of deploy/docker/node-flags.
      expect(service?.entrypoint).toBeUndefined();
      expect(service?.read_only).toBe(true);
    }
  });

  it('runs the apps with CERT_MANAGER=vault against the vault service, after the bootstrap finished', () => {
    for (const app of ['ca-service', 'issuer-gateway', 'rotation-worker']) {
      expect(compose.services[app]?.environment?.['CERT_MANAGER']).toBe('vault');
      expect(compose.services[app]?.environment?.['REDIS_URL']).toBe('redis://redis:6379');
    }
    expect(compose.services['ca-service']?.depends_on?.['vault-bootstrap']?.condition).toBe('service_completed_successfully');
    expect(compose.services['vault-bootstrap']?.depends_on?.['vault']?.condition).toBe('service_healthy');
  });

  it('builds that image from one Dockerfile that runs as a non-root user from a pinned base image', () => {
    const dockerfile = readFileSync(path.join(repoRoot(), 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^USER 1000:1000$/m);
    expect(dockerfile).toMatch(/ARG NODE_IMAGE=node:\d+\.\d+\.\d+-/);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/bin\/sh", "\/app\/deploy\/docker\/entrypoint\.sh"\]$/m);
  });
});
