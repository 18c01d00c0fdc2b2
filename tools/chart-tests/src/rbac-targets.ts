// The Kubernetes APIs issueWithChartRbac runs against: a real cluster from KUBECONFIG (objects
// applied for real in a fresh namespace, tokens from the TokenRequest API), or the emulator
// from @fsm-certs/testing behind an authorizer that grants each ServiceAccount token exactly
// what the rendered RoleBindings grant, and answers 403 Forbidden otherwise, as RBAC does.
import { randomBytes } from 'node:crypto';
import { CoreV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import type { KubernetesPermission, KubernetesVerb } from '@fsm-certs/providers';
import { KubernetesEmulator, parseApiPath, type InterceptedRequest, type InterceptorReply } from '@fsm-certs/testing';
import { z } from 'zod';
import type { KubeObject } from './helm.js';
import { grantedTo } from './manifests.js';
import type { RbacTarget } from './rbac-run.js';

/** The request as RBAC sees it (k8s.io/apiserver RequestInfo): verb from method and query. */
export function requestPermission(request: InterceptedRequest): KubernetesPermission | undefined {
  const parsed = parseApiPath(request.path);
  if (parsed === undefined) return undefined;
  const watch = request.query.get('watch') === 'true' || request.query.get('watch') === '1';
  const writes: Record<string, KubernetesVerb> = { POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };
  const verb: KubernetesVerb | undefined = request.method === 'GET' ? (watch ? 'watch' : parsed.name === undefined ? 'list' : 'get') : writes[request.method];
  if (verb === undefined) return undefined;
  const fieldName = /^metadata\.name=(.+)$/.exec(request.query.get('fieldSelector') ?? '')?.[1];
  return { apiGroup: parsed.group, resource: parsed.plural, verb, resourceName: parsed.name ?? fieldName, clusterScoped: parsed.namespace === undefined };
}

function allows(granted: readonly KubernetesPermission[], wanted: KubernetesPermission): boolean {
  return granted.some(
    (g) =>
      g.apiGroup === wanted.apiGroup &&
      g.resource === wanted.resource &&
      g.verb === wanted.verb &&
      // A ClusterRoleBinding grants in every namespace too.
      (g.clusterScoped || !wanted.clusterScoped) &&
      (g.resourceName === undefined || g.resourceName === wanted.resourceName),
  );
}

function status(code: number, reason: string, message: string): InterceptorReply {
  return { status: code, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code } };
}

export interface EmulatorRbacTarget extends RbacTarget {
  readonly emulator: KubernetesEmulator;
  /** Every request the authorizer refused, as "<user> <verb> <resource>/<name>". */
  readonly denied: readonly string[];
}

/** The emulator, authorizing by the rendered chart's RBAC. */
export async function emulatorTarget(namespace: string): Promise<EmulatorRbacTarget> {
  const emulator = await KubernetesEmulator.start({ token: null, defaultNamespace: namespace });
  const adminToken = randomBytes(16).toString('hex');
  const tokens = new Map<string, string>();
  const denied: string[] = [];
  let rendered: readonly KubeObject[] = [];
  emulator.addInterceptor((req) => {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (bearer === adminToken) return undefined;
    const account = bearer === undefined ? undefined : tokens.get(bearer);
    if (bearer !== undefined && account === undefined) return status(401, 'Unauthorized', 'Unauthorized');
    const user = account === undefined ? 'system:anonymous' : `system:serviceaccount:${namespace}:${account}`;
    const wanted = requestPermission(req);
    if (wanted !== undefined && account !== undefined && allows(grantedTo(rendered, account, namespace), wanted)) return undefined;
    const what = wanted === undefined ? `${req.method} ${req.path}` : `${wanted.verb} ${wanted.resource}/${wanted.resourceName ?? ''}`;
    denied.push(`${user} ${what}`);
    const scope = wanted?.clusterScoped === false ? ` in the namespace "${namespace}"` : ' at the cluster scope';
    return status(403, 'Forbidden', `${wanted?.resource ?? 'resource'} "${wanted?.resourceName ?? ''}" is forbidden: User "${user}" cannot ${wanted?.verb ?? req.method} resource "${wanted?.resource ?? ''}" in API group "${wanted?.apiGroup ?? ''}"${scope}`);
  });
  return {
    label: `Kubernetes API emulator ${emulator.url} enforcing the chart's RBAC`,
    namespace,
    emulator,
    denied,
    cluster: { server: emulator.url, caData: undefined, skipTlsVerify: true },
    async apply(objects) {
      rendered = objects;
      const secretSchema = z.looseObject({ metadata: z.looseObject({ name: z.string() }), data: z.record(z.string(), z.string()).optional() });
      for (const object of objects.filter((o) => o.kind === 'Secret')) {
        const secret = secretSchema.parse(object);
        emulator.store.create(emulator.secrets, namespace, { apiVersion: 'v1', kind: 'Secret', metadata: { name: secret.metadata.name, namespace }, data: secret.data ?? {} });
      }
    },
    tokenFor(serviceAccount) {
      const token = randomBytes(24).toString('hex');
      tokens.set(token, serviceAccount);
      return Promise.resolve(token);
    },
    readSecret(name, key) {
      let found: unknown;
      try {
        found = emulator.store.get(emulator.secrets, namespace, name);
      } catch {
        return Promise.resolve(undefined);
      }
      const value = z.object({ data: z.record(z.string(), z.string()).optional() }).parse(found).data?.[key];
      return Promise.resolve(value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8'));
    },
    close: () => emulator.close(),
  };
}

/** Objects applied for real so the apps can run; the rest of the chart is only dry-run. */
const APPLIED_KINDS = ['ServiceAccount', 'Secret', 'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'];

function asKubernetesObject(object: KubeObject): KubernetesObject {
  return object;
}

/** A real cluster from KUBECONFIG, in a namespace made for the run and deleted after it. */
export async function clusterTarget(kubeConfig: KubeConfig, namespace: string): Promise<RbacTarget & { dryRunApply(objects: readonly KubeObject[]): Promise<string[]> }> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const objectsApi = KubernetesObjectApi.makeApiClient(kubeConfig);
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster === null) throw new Error('KUBECONFIG has no current cluster');
  await core.createNamespace({ body: { metadata: { name: namespace, labels: { 'app.kubernetes.io/part-of': 'fsm-certs-chart-tests' } } } });
  const clusterScoped: KubeObject[] = [];
  const apply = (object: KubeObject, dryRun: boolean): Promise<KubernetesObject> =>
    objectsApi.patch(asKubernetesObject(object), undefined, dryRun ? 'All' : undefined, 'fsm-certs-chart-tests', true, PatchStrategy.ServerSideApply);
  return {
    label: `real cluster ${cluster.server} (KUBECONFIG), namespace ${namespace}`,
    namespace,
    cluster: { server: cluster.server, caData: cluster.caData, skipTlsVerify: cluster.skipTLSVerify },
    /** Server-side apply with dryRun=All of every rendered object; returns "<kind>/<name>" applied. */
    async dryRunApply(objects) {
      const done: string[] = [];
      for (const object of objects) {
        await apply(object, true);
        done.push(`${object.kind}/${object.metadata.name}`);
      }
      return done;
    },
    async apply(objects) {
      for (const object of objects.filter((o) => APPLIED_KINDS.includes(o.kind))) {
        await apply(object, false);
        if (object.metadata.namespace === undefined) clusterScoped.push(object);
      }
    },
    async tokenFor(serviceAccount) {
      const answer = await core.createNamespacedServiceAccountToken({ name: serviceAccount, namespace, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
      const token = answer.status?.token;
      if (token === undefined) throw new Error(`no token for ServiceAccount ${namespace}/${serviceAccount}`);
      return token;
    },
    async readSecret(name, key) {
      const secret = await core.readNamespacedSecret({ name, namespace }).catch(() => undefined);
      const value = secret?.data?.[key];
      return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
    },
    async close() {
      for (const object of clusterScoped) await objectsApi.delete(asKubernetesObject(object)).catch(() => undefined);
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    },
  };
}
