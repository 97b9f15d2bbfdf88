import { createHash, randomBytes } from 'node:crypto';
import { basicAuth } from './api';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

export const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export interface PushedImage {
  tag: string;
  digest: string;
  manifest: Buffer;
  config: { digest: string; bytes: Buffer };
  layers: Array<{ digest: string; bytes: Buffer }>;
}

/** A registry client over fetch, for protocol tests the real clients cannot make (attacks, odd bodies). */
export class OciClient {
  constructor(
    readonly base: string,
    readonly auth?: { user: string; pass: string },
  ) {}

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.auth ? basicAuth(this.auth.user, this.auth.pass) : {}), ...extra };
  }

  fetch(path: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<Response> {
    return fetch(`${this.base}${path}`, {
      ...init,
      headers: this.headers(init.headers ?? {}),
      redirect: 'manual',
    });
  }

  /** POST ?digest= with the body: a monolithic upload. Returns the response. */
  upload(repo: string, bytes: Buffer, digest = digestOf(bytes)): Promise<Response> {
    return this.fetch(`/v2/${repo}/blobs/uploads/?digest=${digest}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) },
      body: bytes,
    });
  }

  async pushBlob(repo: string, bytes: Buffer): Promise<string> {
    const res = await this.upload(repo, bytes);
    if (res.status !== 201) throw new Error(`blob upload ${res.status}: ${await res.text()}`);
    return digestOf(bytes);
  }

  putManifest(repo: string, ref: string, body: Buffer, mediaType = OCI_MANIFEST): Promise<Response> {
    return this.fetch(`/v2/${repo}/manifests/${ref}`, {
      method: 'PUT',
      headers: { 'content-type': mediaType },
      body,
    });
  }

  /** A small random image (config and `layerCount` layers) pushed under `tag`. */
  async pushImage(repo: string, tag: string, layerCount = 2, layerBytes = 2048): Promise<PushedImage> {
    const layers = [];
    for (let i = 0; i < layerCount; i++) {
      const bytes = randomBytes(layerBytes);
      layers.push({ digest: await this.pushBlob(repo, bytes), bytes });
    }
    const configBytes = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      }),
    );
    const config = { digest: await this.pushBlob(repo, configBytes), bytes: configBytes };
    const manifest = imageManifest(config, layers);
    const res = await this.putManifest(repo, tag, manifest);
    if (res.status !== 201) throw new Error(`manifest ${res.status}: ${await res.text()}`);
    return { tag, digest: digestOf(manifest), manifest, config, layers };
  }
}

export function imageManifest(
  config: { digest: string; bytes: Buffer },
  layers: Array<{ digest: string; bytes: Buffer }>,
  extra: Record<string, unknown> = {},
): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.bytes.length },
      layers: layers.map((l) => ({ mediaType: OCI_LAYER, digest: l.digest, size: l.bytes.length })),
      ...extra,
    }),
  );
}

/** The OCI error code of a /v2 answer. */
export async function ociError(res: Response): Promise<[number, string | undefined]> {
  const text = await res.text();
  try {
    return [res.status, (JSON.parse(text) as { errors?: Array<{ code: string }> }).errors?.[0]?.code];
  } catch {
    return [res.status, undefined];
  }
}
