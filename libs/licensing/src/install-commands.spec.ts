import { licenseCommands } from './install-commands';

describe('licenseCommands', () => {
  const base = {
    publicUrl: 'https://store.example:8443/shop',
    publisher: 'acme',
    chart: 'superdb',
    licenseId: 'lic-1',
  };

  it('keys the pull secret by <host>/<publisher>, whatever path PUBLIC_URL has', () => {
    const c = licenseCommands({ ...base, key: 'berth_lic_abc' });
    expect(c.registryServer).toBe('store.example:8443/acme');
    expect(c.pullSecretCommand).toBe(
      'kubectl create secret docker-registry acme-pull --docker-server=store.example:8443/acme --docker-username=lic-1 --docker-password=berth_lic_abc',
    );
    expect(c.ociInstallCommand).toBe(
      'helm registry login store.example:8443 --username lic-1 --password berth_lic_abc\nhelm install superdb oci://store.example:8443/acme/superdb',
    );
  });

  it('reads the key from standard input or a file when it is not shown', () => {
    const c = licenseCommands(base);
    expect(c.ociInstallCommand).toContain('--password-stdin');
    expect(c.pullSecretCommand).toContain('--docker-password="$(cat license-key.txt)"');
    expect(c.pullSecretCommand).not.toContain('berth_lic_');
  });
});
