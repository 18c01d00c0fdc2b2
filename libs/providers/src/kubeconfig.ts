// Loads the kubeconfig the apps use, the way kubectl reads KUBECONFIG: a list of files joined by
// the platform's path delimiter (`a:b` on Linux), merged so that the first file to define a
// cluster, user or context wins and the first file that sets current-context decides it.
// Without a path: client-node's default chain (KUBECONFIG, ~/.kube/config, the pod's service
// account, localhost:8080).
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { ProviderError } from './errors.js';

/** The files a KUBECONFIG value names, in order, empty entries dropped (kubectl ignores them). */
export function kubeconfigFiles(value: string): string[] {
  return value.split(path.delimiter).filter((file) => file !== '');
}

function readOne(file: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromFile(file);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ProviderError('CONFIGURATION_INVALID', `Cannot read kubeconfig ${file} (from KUBECONFIG): ${reason ?? 'unreadable'}; fix the path or unset KUBECONFIG.`, {
      cause: error,
    });
  }
  return kubeConfig;
}

/** kubectl's merge: entries already defined by an earlier file are kept, later duplicates ignored. */
function mergeFirstWins(files: readonly string[]): KubeConfig {
  const merged = new KubeConfig();
  const clusters: KubeConfig['clusters'] = [];
  const users: KubeConfig['users'] = [];
  const contexts: KubeConfig['contexts'] = [];
  let currentContext = '';
  for (const file of files) {
    const one = readOne(file);
    for (const cluster of one.clusters) if (!clusters.some((c) => c.name === cluster.name)) clusters.push(cluster);
    for (const user of one.users) if (!users.some((u) => u.name === user.name)) users.push(user);
    for (const context of one.contexts) if (!contexts.some((c) => c.name === context.name)) contexts.push(context);
    if (currentContext === '' && one.currentContext !== undefined && one.currentContext !== '') currentContext = one.currentContext;
  }
  merged.loadFromOptions({ clusters, users, contexts, currentContext });
  return merged;
}

/** config.kubeconfig (KUBECONFIG, possibly a list) when given, else the default chain. */
export function loadKubeConfig(config: { readonly kubeconfig?: string | undefined }): KubeConfig {
  const files = config.kubeconfig === undefined ? [] : kubeconfigFiles(config.kubeconfig);
  if (files.length > 0) return mergeFirstWins(files);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  return kubeConfig;
}
