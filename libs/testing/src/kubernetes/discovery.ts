// What kubectl reads before it touches a resource: /version, API discovery (/api, /apis and each
// group-version's resource list, in the legacy JSON form every client falls back to), and an
// OpenAPI v3 index whose PATCH operations declare the fieldValidation parameter, so kubectl
// leaves validation to the server (as against any API server since 1.27) instead of downloading
// schemas. Only the registered resources are listed.
import { apiVersionOf, type ResourceDefinition } from './types.js';

const VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
export const EMULATED_VERSION = { major: '1', minor: '36', gitVersion: 'v1.36.0-fsm-certs-emulator', platform: 'linux/amd64' };

function groupVersions(defs: readonly ResourceDefinition[]): Map<string, ResourceDefinition[]> {
  const out = new Map<string, ResourceDefinition[]>();
  for (const def of defs) out.set(apiVersionOf(def), [...(out.get(apiVersionOf(def)) ?? []), def]);
  return out;
}

function resourceList(groupVersion: string, defs: readonly ResourceDefinition[]): unknown {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion,
    resources: defs.flatMap((def) => [
      { name: def.plural, singularName: def.kind.toLowerCase(), namespaced: def.namespaced, kind: def.kind, verbs: VERBS },
      ...(def.statusSubresource === true ? [{ name: `${def.plural}/status`, singularName: '', namespaced: def.namespaced, kind: def.kind, verbs: ['get', 'patch', 'update'] }] : []),
    ]),
  };
}

function openApiPaths(defs: readonly ResourceDefinition[]): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const def of defs) {
    const base = def.group === '' ? `/api/${def.version}` : `/apis/${def.group}/${def.version}`;
    const scope = def.namespaced ? '/namespaces/{namespace}' : '';
    paths[`${base}${scope}/${def.plural}/{name}`] = {
      patch: {
        'x-kubernetes-group-version-kind': { group: def.group, version: def.version, kind: def.kind },
        parameters: [{ name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } }],
        responses: { '200': { description: 'OK' } },
      },
    };
  }
  return paths;
}

/** The answer to a discovery or OpenAPI GET, or undefined when `pathname` is not one. */
export function discoveryAnswer(pathname: string, defs: readonly ResourceDefinition[], serverAddress: string): unknown {
  const byGroupVersion = groupVersions(defs);
  const path = pathname.replace(/\/+$/, '') || '/';
  if (path === '/version') return EMULATED_VERSION;
  if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
  if (path === '/apis') {
    const groups = new Map<string, string[]>();
    for (const def of defs) if (def.group !== '') groups.set(def.group, [...new Set([...(groups.get(def.group) ?? []), def.version])]);
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [...groups].map(([name, versions]) => ({
        name,
        versions: versions.map((version) => ({ groupVersion: `${name}/${version}`, version })),
        preferredVersion: { groupVersion: `${name}/${versions[0] ?? ''}`, version: versions[0] ?? '' },
      })),
    };
  }
  const legacy = /^\/api\/([^/]+)$/.exec(path) ?? /^\/apis\/([^/]+\/[^/]+)$/.exec(path);
  if (legacy !== null) {
    const found = byGroupVersion.get(legacy[1] ?? '');
    return found === undefined ? undefined : resourceList(legacy[1] ?? '', found);
  }
  if (path === '/openapi/v3') {
    const index: Record<string, unknown> = {};
    for (const groupVersion of byGroupVersion.keys()) {
      const key = groupVersion.includes('/') ? `apis/${groupVersion}` : `api/${groupVersion}`;
      index[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=emulator` };
    }
    return { paths: index };
  }
  const spec = /^\/openapi\/v3\/(?:api\/([^/]+)|apis\/([^/]+\/[^/]+))$/.exec(path);
  if (spec !== null) {
    const found = byGroupVersion.get(spec[1] ?? spec[2] ?? '');
    if (found === undefined) return undefined;
    return { openapi: '3.0.0', info: { title: 'Kubernetes', version: EMULATED_VERSION.gitVersion }, paths: openApiPaths(found), components: { schemas: {} } };
  }
  return undefined;
}
