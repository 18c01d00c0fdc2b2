// What every rendered workload must have for production: probes on the apps' health endpoints,
// a locked-down securityContext, resource requests and limits, disruption budgets and spread;
// and the objects around them (Services, NetworkPolicies, Redis, the Vault bootstrap hook).
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { COMBINATIONS, FSM_VAULT_LINE } from './combinations.js';
import { lint, render, renderNotes, type KubeObject } from './helm.js';
import { byKind, find, mainContainer, workload, workloads, type Probe, type Workload } from './manifests.js';

const APPS = ['ca-service', 'issuer-gateway', 'rotation-worker'] as const;

function containerPort(w: Workload, port: string | number): number | undefined {
  if (typeof port === 'number') return port;
  return mainContainer(w).ports.find((p) => p.name === port)?.containerPort;
}

function envValue(w: Workload, name: string): string | undefined {
  return mainContainer(w).env.find((v) => v.name === name)?.value;
}

const serviceSchema = z.looseObject({
  spec: z.looseObject({ selector: z.record(z.string(), z.string()), ports: z.array(z.looseObject({ name: z.string(), port: z.number(), targetPort: z.union([z.string(), z.number()]) })) }),
});
const networkPolicySchema = z.looseObject({
  spec: z.looseObject({
    podSelector: z.looseObject({ matchLabels: z.record(z.string(), z.string()) }),
    policyTypes: z.array(z.string()),
    ingress: z.array(z.looseObject({ from: z.array(z.record(z.string(), z.unknown())).optional(), ports: z.array(z.looseObject({ port: z.number() })).optional() })),
  }),
});
const pdbSchema = z.looseObject({ spec: z.looseObject({ maxUnavailable: z.number(), selector: z.looseObject({ matchLabels: z.record(z.string(), z.string()) }) }) });

function networkPolicy(objects: readonly KubeObject[], name: string) {
  return networkPolicySchema.parse(find(objects, 'NetworkPolicy', name));
}

describe.each(Object.entries(COMBINATIONS))('workloads with %s', (_name, set) => {
  const objects = render({ set });

  it('passes helm lint --strict', () => {
    const result = lint(set);
    expect(result.stderr + result.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(result.status).toBe(0);
  });

  it.each(APPS)('probes %s on its own /healthz (startup, liveness) and /readyz (readiness) port', (app) => {
    const w = workload(objects, 'Deployment', `fsm-certs-${app}`);
    const c = mainContainer(w);
    const expected = (probe: Probe | undefined, path: string): void => {
      expect(probe?.httpGet?.path).toBe(path);
      const port = containerPort(w, probe?.httpGet?.port ?? -1);
      if (app === 'issuer-gateway') {
        // The gateway serves health on its API port, over HTTPS when TLS is on.
        expect(String(port)).toBe(envValue(w, 'GATEWAY_PORT'));
        expect(probe?.httpGet?.scheme).toBe(envValue(w, 'GATEWAY_TLS') === 'true' ? 'HTTPS' : 'HTTP');
      } else {
        expect(String(port)).toBe(envValue(w, 'HEALTH_PORT'));
        expect(envValue(w, 'HEALTH_HOST')).toBe('0.0.0.0');
        expect(probe?.httpGet?.scheme).toBe('HTTP');
      }
    };
    expected(c.startupProbe, '/healthz');
    expected(c.livenessProbe, '/healthz');
    expected(c.readinessProbe, '/readyz');
  });

  it('runs every container non-root, read-only, without privilege escalation or capabilities, under RuntimeDefault seccomp, with requests and limits', () => {
    for (const w of workloads(objects)) {
      const pod = w.spec.template.spec;
      expect(pod.securityContext?.runAsNonRoot, w.metadata.name).toBe(true);
      expect(pod.securityContext?.seccompProfile?.type, w.metadata.name).toBe('RuntimeDefault');
      for (const c of pod.containers) {
        expect(c.securityContext, `${w.metadata.name}/${c.name}`).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, privileged: false, capabilities: { drop: ['ALL'] } });
        expect(c.securityContext?.capabilities?.add, c.name).toBeUndefined();
        for (const resource of ['cpu', 'memory']) {
          expect(c.resources?.requests?.[resource], `${c.name} requests.${resource}`).toBeDefined();
          expect(c.resources?.limits?.[resource], `${c.name} limits.${resource}`).toBeDefined();
        }
      }
    }
  });

  it("tells the gateway about cert-manager, from whose wait its issue timeout is derived (+15s), and nothing else of the provider", () => {
    const provider = envValue(workload(objects, 'Deployment', 'fsm-certs-ca-service'), 'CERT_MANAGER');
    expect(provider).toBeDefined();
    const gatewayProvider = envValue(workload(objects, 'Deployment', 'fsm-certs-issuer-gateway'), 'CERT_MANAGER');
    expect(gatewayProvider).toBe(provider === 'cert-manager' ? 'cert-manager' : undefined);
  });

  it('runs every app from the one image, the app named by its first argument', () => {
    for (const w of workloads(objects).filter((x) => x.kind !== 'StatefulSet')) {
      const c = mainContainer(w);
      expect(c.image).toBe('fsm-certs:0.1.0');
      expect(c.command).toBeUndefined();
      expect(c.args?.[0]).toBe(w.metadata.name.replace(/^fsm-certs-/, ''));
    }
  });

  it('keeps secrets out of the Deployments: tokens, passwords and keys come from Secrets', () => {
    for (const w of workloads(objects)) {
      for (const v of mainContainer(w).env) {
        if (/TOKEN|PASSWORD|KEY$|_KEY_|REDIS_URL/.test(v.name) && !/_NAME$|_KEY$|AUDIENCE|ENABLED/.test(v.name)) {
          // REDIS_URL may be a literal only when it refers to the password variable.
          if (v.value !== undefined) expect(v.value, `${w.metadata.name} ${v.name}`).toContain('$(REDIS_PASSWORD)');
          else expect(v.valueFrom?.secretKeyRef, `${w.metadata.name} ${v.name}`).toBeDefined();
        }
      }
    }
  });

  it('protects each app with a PodDisruptionBudget and spreads its replicas over nodes and zones', () => {
    for (const app of APPS) {
      const pdb = pdbSchema.parse(find(objects, 'PodDisruptionBudget', `fsm-certs-${app}`));
      expect(pdb.spec.maxUnavailable).toBe(1);
      expect(pdb.spec.selector.matchLabels['app.kubernetes.io/component']).toBe(app);
      const spread = workload(objects, 'Deployment', `fsm-certs-${app}`).spec.template.spec.topologySpreadConstraints ?? [];
      expect(spread.map((t) => t.topologyKey)).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
    }
    expect(workload(objects, 'Deployment', 'fsm-certs-ca-service').spec.replicas).toBe(2);
    expect(workload(objects, 'Deployment', 'fsm-certs-issuer-gateway').spec.replicas).toBe(2);
  });

  it('lets traffic from outside reach the gateway only; the ca-service and rotation-worker take none but metrics scrapes', () => {
    const gateway = networkPolicy(objects, 'fsm-certs-issuer-gateway');
    expect(gateway.spec.ingress.map((r) => r.ports?.map((p) => p.port))).toEqual([[Number(envValue(workload(objects, 'Deployment', 'fsm-certs-issuer-gateway'), 'GATEWAY_PORT'))]]);
    for (const app of ['ca-service', 'rotation-worker']) {
      const policy = networkPolicy(objects, `fsm-certs-${app}`);
      expect(policy.spec.policyTypes).toEqual(['Ingress']);
      for (const rule of policy.spec.ingress) {
        expect(rule.ports?.map((p) => p.port)).toEqual([9090]);
        expect(rule.from?.length ?? 0).toBeGreaterThan(0);
      }
    }
  });

  it('serves the gateway as the Service issuer-gateway, on 443 with TLS', () => {
    const service = serviceSchema.parse(find(objects, 'Service', 'issuer-gateway'));
    const tls = envValue(workload(objects, 'Deployment', 'fsm-certs-issuer-gateway'), 'GATEWAY_TLS') === 'true';
    expect(service.spec.ports.map((p) => [p.port, p.targetPort])).toEqual([[tls ? 443 : 80, tls ? 'https' : 'http']]);
    expect(service.spec.selector['app.kubernetes.io/component']).toBe('issuer-gateway');
  });
});

describe('Redis', () => {
  const objects = render({ set: {} });

  it('is a StatefulSet with a volume, an append-only file, noeviction and a password from a Secret', () => {
    const redis = workload(objects, 'StatefulSet', 'fsm-certs-redis');
    const c = mainContainer(redis);
    const args = (c.args ?? []).join(' ');
    expect(args).toContain('--appendonly yes');
    expect(args).toContain('--maxmemory-policy noeviction');
    // Inventory hashes stay listpacks: ~200 bytes less per certificate.
    expect(args).toContain('--hash-max-listpack-value 1024');
    // AOF rewrites (fork + a child on a core) from 512 MB, not every 64 MB of issuing.
    expect(args).toContain('--auto-aof-rewrite-min-size 512mb');
    expect(args).toContain('--requirepass $(REDIS_PASSWORD)');
    expect(c.env.find((v) => v.name === 'REDIS_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({ name: 'fsm-certs-redis', key: 'password' });
    expect(c.volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' });
    expect(redis.spec.volumeClaimTemplates?.[0]?.spec.resources.requests['storage']).toBe('2Gi');
    expect(c.livenessProbe?.exec?.command.join(' ')).toContain('redis-cli -h 127.0.0.1 ping');
  });

  it('takes connections only from the three apps of the release', () => {
    const policy = networkPolicySchema.parse(find(objects, 'NetworkPolicy', 'fsm-certs-redis'));
    expect(policy.spec.ingress).toEqual([
      {
        ports: [{ port: 6379, protocol: 'TCP' }],
        from: [
          {
            podSelector: {
              matchLabels: { 'app.kubernetes.io/name': 'fsm-certs', 'app.kubernetes.io/instance': 'fsm-certs' },
              matchExpressions: [{ key: 'app.kubernetes.io/component', operator: 'In', values: ['ca-service', 'issuer-gateway', 'rotation-worker'] }],
            },
          },
        ],
      },
    ]);
  });
});

describe('the Vault bootstrap Job', () => {
  it('is not rendered unless enabled with the Vault provider', () => {
    expect(byKind(render({ set: FSM_VAULT_LINE }), 'Job')).toEqual([]);
  });

  it('runs vault-bootstrap as a pre-install/pre-upgrade hook with the token from a hook Secret', () => {
    const objects = render({ set: { ...FSM_VAULT_LINE, 'vaultBootstrap.enabled': 'true', 'vaultBootstrap.args[0]': '--max-ttl', 'vaultBootstrap.args[1]': '24h' } });
    const job = workload(objects, 'Job', 'fsm-certs-vault-bootstrap');
    expect(job.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    expect(mainContainer(job).args).toEqual(['vault-bootstrap', '--max-ttl', '24h']);
    const secret = find(objects, 'Secret', 'fsm-certs-vault-bootstrap');
    expect(secret?.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    expect(Number(secret?.metadata.annotations?.['helm.sh/hook-weight'])).toBeLessThan(Number(job.metadata.annotations?.['helm.sh/hook-weight']));
    expect(mainContainer(job).env.find((v) => v.name === 'VAULT_TOKEN')?.valueFrom?.secretKeyRef).toEqual({ name: 'fsm-certs-vault-bootstrap', key: 'token' });
    expect(job.spec.template.spec.automountServiceAccountToken).toBe(false);
  });
});

describe('release names and NOTES', () => {
  it('prefixes objects with another release name but keeps the names the apps rely on', () => {
    const objects = render({ release: 'mesh-b', set: {} });
    expect(workload(objects, 'Deployment', 'mesh-b-fsm-certs-ca-service').spec.template.spec.serviceAccountName).toBe('mesh-b-fsm-certs-ca-service');
    expect(find(objects, 'Service', 'issuer-gateway')).toBeDefined();
    expect(find(objects, 'Secret', 'fsm-certs-kek')).toBeDefined();
  });

  it('prints how to get the admin token and the CA after install', () => {
    const notes = renderNotes({ set: {} });
    expect(notes).toContain("kubectl get secret -n fsm-system fsm-certs-admin-token -o jsonpath='{.data.token}' | base64 -d");
    expect(notes).toContain("kubectl get secret -n fsm-system fsm-ca-bundle -o jsonpath='{.data.ca\\.crt}' | base64 -d");
    expect(notes).toContain('https://issuer-gateway.fsm-system.svc');
  });

  it('tells a cert-manager install to create the CA bundle Secret itself', () => {
    expect(renderNotes({ set: { 'fsm.certificateProvider.kind': 'cert-manager' } })).toContain('kubectl create secret -n fsm-system generic fsm-ca-bundle --from-file ca.crt');
  });
});
