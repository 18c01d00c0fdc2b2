// Typed views of the rendered objects the tests look into: workloads (pod spec, containers, env
// resolved the way the kubelet does it), Secrets, and the RBAC a ServiceAccount ends up with.
import type { KubernetesPermission, KubernetesVerb } from '@fsm-certs/providers';
import { z } from 'zod';
import type { KubeObject } from './helm.js';

const envVarSchema = z.object({
  name: z.string(),
  value: z.string().optional(),
  valueFrom: z
    .object({
      secretKeyRef: z.object({ name: z.string(), key: z.string() }).optional(),
      fieldRef: z.object({ fieldPath: z.string() }).optional(),
    })
    .optional(),
});

const probeSchema = z.looseObject({
  httpGet: z.object({ path: z.string(), port: z.union([z.string(), z.number()]), scheme: z.string().optional() }).optional(),
  exec: z.object({ command: z.array(z.string()) }).optional(),
});
export type Probe = z.infer<typeof probeSchema>;

const quantities = z.record(z.string(), z.union([z.string(), z.number()]));

const containerSchema = z.looseObject({
  name: z.string(),
  image: z.string(),
  args: z.array(z.string()).optional(),
  command: z.array(z.string()).optional(),
  env: z.array(envVarSchema).default([]),
  ports: z.array(z.looseObject({ name: z.string().optional(), containerPort: z.number() })).default([]),
  startupProbe: probeSchema.optional(),
  livenessProbe: probeSchema.optional(),
  readinessProbe: probeSchema.optional(),
  resources: z.object({ requests: quantities.optional(), limits: quantities.optional() }).optional(),
  securityContext: z
    .looseObject({
      allowPrivilegeEscalation: z.boolean().optional(),
      readOnlyRootFilesystem: z.boolean().optional(),
      privileged: z.boolean().optional(),
      runAsNonRoot: z.boolean().optional(),
      capabilities: z.object({ drop: z.array(z.string()).optional(), add: z.array(z.string()).optional() }).optional(),
    })
    .optional(),
  volumeMounts: z.array(z.looseObject({ name: z.string(), mountPath: z.string() })).default([]),
});
export type Container = z.infer<typeof containerSchema>;

const podSpecSchema = z.looseObject({
  serviceAccountName: z.string().optional(),
  automountServiceAccountToken: z.boolean().optional(),
  securityContext: z
    .looseObject({
      runAsNonRoot: z.boolean().optional(),
      runAsUser: z.number().optional(),
      seccompProfile: z.object({ type: z.string() }).optional(),
    })
    .optional(),
  containers: z.array(containerSchema).min(1),
  topologySpreadConstraints: z.array(z.looseObject({ topologyKey: z.string(), maxSkew: z.number() })).optional(),
  volumes: z.array(z.looseObject({ name: z.string() })).default([]),
});
export type PodSpec = z.infer<typeof podSpecSchema>;

const workloadSchema = z.looseObject({
  kind: z.enum(['Deployment', 'StatefulSet', 'Job']),
  metadata: z.looseObject({ name: z.string(), annotations: z.record(z.string(), z.string()).optional() }),
  spec: z.looseObject({
    replicas: z.number().optional(),
    template: z.looseObject({ spec: podSpecSchema }),
    volumeClaimTemplates: z.array(z.looseObject({ spec: z.looseObject({ resources: z.looseObject({ requests: quantities }) }) })).optional(),
  }),
});
export type Workload = z.infer<typeof workloadSchema>;

export function byKind(objects: readonly KubeObject[], kind: string): KubeObject[] {
  return objects.filter((o) => o.kind === kind);
}

export function find(objects: readonly KubeObject[], kind: string, name: string): KubeObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata.name === name);
}

export function workloads(objects: readonly KubeObject[]): Workload[] {
  return objects.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind)).map((o) => workloadSchema.parse(o));
}

export function workload(objects: readonly KubeObject[], kind: 'Deployment' | 'StatefulSet' | 'Job', name: string): Workload {
  const found = find(objects, kind, name);
  if (found === undefined) throw new Error(`no ${kind} ${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return workloadSchema.parse(found);
}

export function mainContainer(w: Workload): Container {
  const [container] = w.spec.template.spec.containers;
  if (container === undefined) throw new Error(`${w.kind} ${w.metadata.name} has no container`);
  return container;
}

const secretSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string() }),
  data: z.record(z.string(), z.string()).optional(),
  stringData: z.record(z.string(), z.string()).optional(),
});

/** A Secret's value as a pod sees it (data is base64). */
export function secretValue(objects: readonly KubeObject[], name: string, key: string): string | undefined {
  const found = find(objects, 'Secret', name);
  if (found === undefined) return undefined;
  const secret = secretSchema.parse(found);
  const encoded = secret.data?.[key];
  if (encoded !== undefined) return Buffer.from(encoded, 'base64').toString('utf8');
  return secret.stringData?.[key];
}

/**
 * The container's environment as the process gets it: secretKeyRef read from the rendered
 * Secrets (or `external` for Secrets the operator brings), `$(VAR)` expanded from earlier
 * variables as the kubelet does. A reference to a Secret found nowhere is an error.
 */
export function resolvedEnv(objects: readonly KubeObject[], container: Container, namespace: string, external: Readonly<Record<string, string>> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of container.env) {
    let value: string;
    const ref = variable.valueFrom?.secretKeyRef;
    if (ref !== undefined) {
      const found = secretValue(objects, ref.name, ref.key) ?? external[`${ref.name}/${ref.key}`];
      if (found === undefined) throw new Error(`${container.name}: env ${variable.name} refers to Secret ${ref.name} key ${ref.key}, which is neither rendered nor given`);
      value = found;
    } else if (variable.valueFrom?.fieldRef !== undefined) {
      if (variable.valueFrom.fieldRef.fieldPath !== 'metadata.namespace') throw new Error(`unexpected fieldRef ${variable.valueFrom.fieldRef.fieldPath}`);
      value = namespace;
    } else {
      value = (variable.value ?? '').replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (match, name: string | undefined) => (name === undefined ? '$' : (env[name] ?? match)));
    }
    env[variable.name] = value;
  }
  return env;
}

const ruleSchema = z.object({
  apiGroups: z.array(z.string()),
  resources: z.array(z.string()),
  verbs: z.array(z.string()),
  resourceNames: z.array(z.string()).optional(),
});
const roleSchema = z.looseObject({ kind: z.enum(['Role', 'ClusterRole']), metadata: z.looseObject({ name: z.string() }), rules: z.array(ruleSchema).default([]) });
const bindingSchema = z.looseObject({
  kind: z.enum(['RoleBinding', 'ClusterRoleBinding']),
  roleRef: z.object({ kind: z.enum(['Role', 'ClusterRole']), name: z.string() }),
  subjects: z.array(z.object({ kind: z.string(), name: z.string(), namespace: z.string().optional() })).default([]),
});

const VERBS: readonly KubernetesVerb[] = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

function asVerb(verb: string): KubernetesVerb {
  const known = VERBS.find((v) => v === verb);
  if (known === undefined) throw new Error(`the chart grants verb "${verb}", which no app uses`);
  return known;
}

/**
 * Everything the chart's Roles and ClusterRoles grant the ServiceAccount, one verb on one
 * resource (and name) per entry. A ClusterRoleBinding grants cluster-wide.
 */
export function grantedTo(objects: readonly KubeObject[], serviceAccount: string, namespace: string): KubernetesPermission[] {
  const roles = objects.filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole').map((o) => roleSchema.parse(o));
  const granted: KubernetesPermission[] = [];
  for (const binding of objects.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding').map((o) => bindingSchema.parse(o))) {
    const bound = binding.subjects.some((s) => s.kind === 'ServiceAccount' && s.name === serviceAccount && s.namespace === namespace);
    if (!bound) continue;
    const role = roles.find((r) => r.kind === binding.roleRef.kind && r.metadata.name === binding.roleRef.name);
    if (role === undefined) throw new Error(`${binding.kind} refers to a missing ${binding.roleRef.kind} ${binding.roleRef.name}`);
    const clusterScoped = binding.kind === 'ClusterRoleBinding';
    for (const rule of role.rules) {
      for (const apiGroup of rule.apiGroups)
        for (const resource of rule.resources)
          for (const verb of rule.verbs)
            for (const resourceName of rule.resourceNames ?? [undefined]) granted.push({ apiGroup, resource, verb: asVerb(verb), resourceName, clusterScoped });
    }
  }
  return granted;
}
