/**
 * The commands a license holder runs, written in one place for the pages, the e-mail and the API. Every
 * part comes from our own alphabets (slugs, chart names, UUIDs, `berth_lic_…` keys, PUBLIC_URL), so they
 * are shell-safe as written.
 */

/** The registry's host (and port): images and OCI charts are `<host>/<publisher>/<name>`. */
export const registryHost = (publicUrl: string) => new URL(publicUrl).host;

export interface LicenseCommandsInput {
  publicUrl: string;
  publisher: string;
  chart: string;
  licenseId: string;
  /** Written into the commands where given (the success page, the e-mail); else read from standard input. */
  key?: string;
}

export interface LicenseCommands {
  /** `<host>/<publisher>`: the server a pull secret names, so it is sent for this publisher's images only. */
  registryServer: string;
  /** `helm registry login` + `helm install oci://…`: the chart over OCI. */
  ociInstallCommand: string;
  /** `kubectl create secret docker-registry …` for the chart's images. */
  pullSecretCommand: string;
  /** The secret's name, for the chart's `imagePullSecrets`. */
  pullSecretName: string;
}

export function licenseCommands(i: LicenseCommandsInput): LicenseCommands {
  const host = registryHost(i.publicUrl);
  const server = `${host}/${i.publisher}`;
  const secretName = `${i.publisher}-pull`;
  const password = i.key ?? '"$(cat license-key.txt)"';
  const login = i.key
    ? `helm registry login ${host} --username ${i.licenseId} --password ${i.key}`
    : `helm registry login ${host} --username ${i.licenseId} --password-stdin`;
  return {
    registryServer: server,
    ociInstallCommand: `${login}\nhelm install ${i.chart} oci://${server}/${i.chart}`,
    pullSecretCommand:
      `kubectl create secret docker-registry ${secretName} --docker-server=${server} ` +
      `--docker-username=${i.licenseId} --docker-password=${password}`,
    pullSecretName: secretName,
  };
}
