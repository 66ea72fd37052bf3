// Where the components find their cluster: the pod's service account, or KUBECONFIG /
// ~/.kube/config outside a pod. client-node's loadFromDefault() falls back to
// http://localhost:8080 when there is none, which then fails every request with a
// message about TLS that names neither cause nor fix; this says what is missing instead.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { StartupError } from '../errors.ts';

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export function loadKubeConfig(env: Readonly<Record<string, string | undefined>>): KubeConfig {
  const inCluster =
    env['KUBERNETES_SERVICE_HOST'] !== undefined && existsSync(SERVICE_ACCOUNT_TOKEN);
  const kubeconfig = env['KUBECONFIG'];
  const home = join(env['HOME'] ?? homedir(), '.kube', 'config');
  if (!inCluster && !kubeconfig && !existsSync(home)) {
    throw new StartupError(
      'no Kubernetes cluster configured: not in a pod (no service account), KUBECONFIG is unset and ~/.kube/config does not exist',
    );
  }
  const kc = new KubeConfig();
  kc.loadFromDefault(); // KUBECONFIG, then ~/.kube/config, then the in-cluster service account
  return kc;
}
