import { RegistryErrors } from './errors';
import { parseDigest } from './names';

export const MediaTypes = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  helmConfig: 'application/vnd.cncf.helm.config.v1+json',
  helmChart: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
  helmProvenance: 'application/vnd.cncf.helm.chart.provenance.v1.prov',
} as const;

const IMAGE_TYPES = new Set<string>([MediaTypes.ociManifest, MediaTypes.dockerManifest]);
const INDEX_TYPES = new Set<string>([MediaTypes.ociIndex, MediaTypes.dockerList]);

/** The largest manifest accepted (distribution's own default limit). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: unknown;
}

export interface ParsedManifest {
  mediaType: string;
  kind: 'image' | 'index';
  /** The config and layers, in order (image manifests). */
  blobs: Descriptor[];
  /** The children (indexes). */
  manifests: Descriptor[];
  config?: Descriptor;
  layers: Descriptor[];
  artifactType: string | null;
  subject: Descriptor | null;
  annotations: Record<string, string>;
}

const malformed = (why: string) => RegistryErrors.ManifestInvalid(why);

function descriptor(value: unknown, where: string): Descriptor {
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw malformed(`${where} is not a descriptor.`);
  const d = value as Record<string, unknown>;
  if (typeof d.mediaType !== 'string' || !d.mediaType) throw malformed(`${where} has no mediaType.`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw malformed(`${where} has no valid size.`);
  }
  if (typeof d.digest !== 'string') throw malformed(`${where} has no digest.`);
  // Foreign URLs would make a client fetch bytes from somewhere this registry does not control.
  if (d.urls !== undefined) throw malformed(`${where} names urls; foreign layers are not accepted.`);
  return {
    mediaType: d.mediaType,
    digest: parseDigest(d.digest),
    size: d.size,
    annotations: d.annotations as Record<string, string> | undefined,
    platform: d.platform,
  };
}

function list(value: unknown, where: string): Descriptor[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw malformed(`${where} is not a list.`);
  return value.map((v, i) => descriptor(v, `${where}[${i}]`));
}

/**
 * Checks a pushed manifest against the image and distribution specs as far as storing it safely needs:
 * what it is (by `mediaType`, which must agree with `Content-Type`), that it is not two things at once,
 * and every descriptor it holds. Whether the blobs and children exist is the caller's check.
 */
export function parseManifest(body: Buffer, contentType: string | undefined): ParsedManifest {
  if (body.length > MAX_MANIFEST_BYTES) throw RegistryErrors.ManifestTooLarge(MAX_MANIFEST_BYTES);
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    throw malformed('The manifest is not JSON.');
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc))
    throw malformed('The manifest is not a JSON object.');
  const m = doc as Record<string, unknown>;
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (m.schemaVersion === 1 || type.startsWith('application/vnd.docker.distribution.manifest.v1+')) {
    throw RegistryErrors.ManifestTypeUnsupported('application/vnd.docker.distribution.manifest.v1+json');
  }
  if (m.schemaVersion !== 2) throw malformed('schemaVersion must be 2.');
  if (m.mediaType !== undefined && typeof m.mediaType !== 'string')
    throw malformed('mediaType is not a string.');
  const mediaType = (m.mediaType as string | undefined) ?? type;
  if (m.mediaType !== undefined && type && m.mediaType !== type) {
    throw malformed('The manifest mediaType differs from the Content-Type.');
  }
  const hasIndexPart = m.manifests !== undefined;
  const hasImagePart = m.layers !== undefined || m.config !== undefined;
  if (hasIndexPart && hasImagePart)
    throw malformed('A manifest cannot hold both manifests and layers or config.');
  const subject = m.subject === undefined ? null : descriptor(m.subject, 'subject');
  const artifactType = typeof m.artifactType === 'string' ? m.artifactType : null;
  const annotations = (m.annotations && typeof m.annotations === 'object' ? m.annotations : {}) as Record<
    string,
    string
  >;
  if (INDEX_TYPES.has(mediaType) || (!IMAGE_TYPES.has(mediaType) && hasIndexPart)) {
    if (!INDEX_TYPES.has(mediaType)) throw RegistryErrors.ManifestTypeUnsupported(mediaType || 'none');
    if (hasImagePart) throw malformed('An index holds manifests, not layers or config.');
    const manifests = list(m.manifests ?? [], 'manifests');
    return { mediaType, kind: 'index', blobs: [], manifests, layers: [], artifactType, subject, annotations };
  }
  if (!IMAGE_TYPES.has(mediaType)) throw RegistryErrors.ManifestTypeUnsupported(mediaType || 'none');
  if (hasIndexPart) throw malformed('An image manifest holds layers and config, not manifests.');
  const config = descriptor(m.config, 'config');
  const layers = list(m.layers ?? [], 'layers');
  return {
    mediaType,
    kind: 'image',
    blobs: [config, ...layers],
    manifests: [],
    config,
    layers,
    artifactType,
    subject,
    annotations,
  };
}
