import { createServer, Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeKube {
  kubeconfig: string;
  close(): Promise<void>;
}

/**
 * Just enough of a Kubernetes API server's discovery for Helm 3's `install --dry-run=client` (which asks
 * the cluster for its version and resource kinds even then): the core group with ConfigMaps and Secrets.
 * Nothing is ever created; Helm 4 needs none of it.
 */
export async function startFakeKube(): Promise<FakeKube> {
  const resources = [
    {
      name: 'configmaps',
      singularName: 'configmap',
      namespaced: true,
      kind: 'ConfigMap',
      verbs: ['get', 'list'],
    },
    { name: 'secrets', singularName: 'secret', namespaced: true, kind: 'Secret', verbs: ['get', 'list'] },
  ];
  const answers: Record<string, unknown> = {
    '/version': { major: '1', minor: '30', gitVersion: 'v1.30.0', platform: 'linux/amd64' },
    '/api': { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] },
    '/apis': { kind: 'APIGroupList', apiVersion: 'v1', groups: [] },
    '/api/v1': { kind: 'APIResourceList', groupVersion: 'v1', resources },
  };
  const server: Server = createServer((req, res) => {
    const body = answers[(req.url ?? '').split('?')[0]];
    res.statusCode = body ? 200 : 404;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body ?? { kind: 'Status', status: 'Failure', code: 404 }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  const kubeconfig = join(mkdtempSync(join(tmpdir(), 'berth-kube-')), 'config');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: fake, cluster: {server: "http://127.0.0.1:${port}"}}]`,
      'contexts: [{name: fake, context: {cluster: fake, user: fake}}]',
      'users: [{name: fake, user: {}}]',
      'current-context: fake',
      '',
    ].join('\n'),
  );
  return { kubeconfig, close: () => new Promise((r) => server.close(() => r())) };
}
