import { Controller, Delete, Get, Logger, Param, Patch, Post, Put, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { DownloadCounter } from '@berth/analytics';
import {
  MAX_MANIFEST_BYTES,
  OpenRepository,
  RegistryCaller,
  RegistryErrors,
  RegistryReads,
  RegistryWrites,
  UploadState,
} from '@berth/registry';
import type { Request, Response } from 'express';
import { Caller, RegistryRoute, RepositoryName } from './registry-auth';

/** Content-Length of a request, or null for a chunked body. */
const lengthOf = (req: Request): number | null => {
  const raw = req.headers['content-length'];
  if (raw === undefined) return null;
  if (!/^\d+$/.test(raw)) throw RegistryErrors.SizeInvalid('Content-Length is not a number.');
  return Number(raw);
};

const hasBody = (req: Request) => (lengthOf(req) ?? (req.headers['transfer-encoding'] ? -1 : 0)) !== 0;

/** `start-end`, as the distribution spec writes a chunk's Content-Range (a `bytes ` prefix and `/total` tolerated). */
function chunkRange(header: string | undefined): { start: number; end: number } | null {
  if (header === undefined) return null;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (!m || Number(m[2]) < Number(m[1]))
    throw RegistryErrors.BlobUploadInvalid('Content-Range is malformed.');
  return { start: Number(m[1]), end: Number(m[2]) };
}

/** A single `bytes=` range of a blob of `size` bytes; null when absent, unsatisfiable ranges throw. */
function byteRange(header: string | undefined, size: number): { start: number; end: number } | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null; // not a form we serve partially: the whole blob
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) throw RegistryErrors.BlobRangeInvalid();
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || end < start) throw RegistryErrors.BlobRangeInvalid();
  return { start, end };
}

async function readManifestBody(req: Request): Promise<Buffer> {
  const length = lengthOf(req);
  if (length !== null && length > MAX_MANIFEST_BYTES) {
    req.resume();
    throw RegistryErrors.ManifestTooLarge(MAX_MANIFEST_BYTES);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_MANIFEST_BYTES) {
      req.resume();
      throw RegistryErrors.ManifestTooLarge(MAX_MANIFEST_BYTES);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const uploadPath = (name: string, id: string) => `/v2/${name}/blobs/uploads/${id}`;
const rangeHeader = (size: number) => `0-${Math.max(0, size - 1)}`;

function sendUploadState(res: Response, name: string, u: UploadState, status: number): void {
  res
    .status(status)
    .setHeader('Location', uploadPath(name, u.id))
    .setHeader('Range', rangeHeader(u.size))
    .setHeader('Docker-Upload-UUID', u.id)
    .setHeader('Content-Length', '0')
    .end();
}

function sendCreated(res: Response, location: string, digest: string): void {
  res.status(201).setHeader('Location', location).setHeader('Docker-Content-Digest', digest);
  res.setHeader('Content-Length', '0').end();
}

/**
 * The OCI distribution API (v1.1) at the host root, as every registry client expects it. Bodies stream
 * both ways (a blob never sits in memory whole) and nothing here is compressed.
 */
@ApiExcludeController()
@Controller('v2')
export class RegistryController {
  private readonly logger = new Logger('Registry');

  constructor(
    private readonly reads: RegistryReads,
    private readonly writes: RegistryWrites,
    private readonly downloads: DownloadCounter,
  ) {}

  /** The version check. Anonymous callers get the Basic challenge, which older clients only learn here. */
  @Get()
  @RegistryRoute('ping')
  ping(@Caller() caller: RegistryCaller, @Res() res: Response): void {
    if (caller.kind === 'anonymous') throw RegistryErrors.RegistryCredentialsRequired();
    res.status(200).json({});
  }

  @Get('*name/tags/list')
  @RegistryRoute('pull')
  async tags(
    @Caller() caller: RegistryCaller,
    @RepositoryName() name: string,
    @Query('n') n: string | undefined,
    @Query('last') last: string | undefined,
    @Res() res: Response,
  ): Promise<void> {
    if (n !== undefined && !/^\d{1,9}$/.test(n))
      throw RegistryErrors.BlobUploadInvalid('n must be a whole number.');
    const page = await this.reads.tags(caller, name, n === undefined ? null : Number(n), last ?? null);
    if (page.more) {
      const next = new URLSearchParams({
        n: String(page.tags.length),
        last: page.tags[page.tags.length - 1],
      });
      res.setHeader('Link', `</v2/${page.name}/tags/list?${next.toString()}>; rel="next"`);
    }
    res.status(200).json({ name: page.name, tags: page.tags });
  }

  @Get('*name/manifests/:reference')
  @RegistryRoute('pull')
  async manifest(
    @Caller() caller: RegistryCaller,
    @RepositoryName() name: string,
    @Param('reference') reference: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const m = await this.reads.manifest(caller, name, reference);
    res
      .status(200)
      .setHeader('Content-Type', m.mediaType)
      .setHeader('Docker-Content-Digest', m.digest)
      .setHeader('ETag', `"${m.digest}"`)
      .setHeader('Content-Length', String(m.body.length))
      .setHeader('Cache-Control', caller.kind === 'anonymous' ? 'public, no-cache' : 'private, no-cache');
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    res.end(m.body);
    // Counted after the answer: a pull never waits on, or fails with, the lookup.
    void this.countImagePull(caller, m).catch((e: unknown) =>
      this.logger.warn({ msg: 'image pull not counted', err: String(e) }),
    );
  }

  /**
   * A release's image pulled: counted for the chart version whose release names it, and for the caller's
   * license when that version is of the license's chart (the newest such version; otherwise the newest).
   */
  private async countImagePull(caller: RegistryCaller, m: { open: OpenRepository; digest: string }) {
    const releases = await this.reads.imageReleasesOf(m.open, m.digest);
    const own = caller.kind === 'license' ? releases.find((r) => r.chartId === caller.chartId) : undefined;
    const release = own ?? releases[0];
    if (!release) return;
    this.downloads.countImagePull(release.chartId, release.version, {
      licenseId: own && caller.kind === 'license' ? caller.licenseId : undefined,
    });
  }

  @Put('*name/manifests/:reference')
  @RegistryRoute('push')
  async putManifest(
    @Caller() caller: RegistryCaller,
    @RepositoryName() name: string,
    @Param('reference') reference: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const body = await readManifestBody(req);
    const pushed = await this.writes.putManifest(caller, name, reference, body, req.headers['content-type']);
    if (pushed.subject) res.setHeader('OCI-Subject', pushed.subject);
    sendCreated(res, `/v2/${name}/manifests/${pushed.digest}`, pushed.digest);
  }

  @Delete('*name/manifests/:reference')
  @RegistryRoute('push')
  async deleteManifest(
    @Caller() caller: RegistryCaller,
    @RepositoryName() name: string,
    @Param('reference') reference: string,
    @Res() res: Response,
  ): Promise<void> {
    await this.writes.deleteManifest(caller, name, reference);
    res.status(202).setHeader('Content-Length', '0').end();
  }

  @Get('*name/referrers/:digest')
  @RegistryRoute('pull')
  async referrers(
    @Caller() caller: RegistryCaller,
    @RepositoryName() name: string,
    @Param('digest') digest: string,
    @Query('artifactType') artifactType: string | undefined,
    @Res() res: Response,
  ): Promise<void> {
    const body = await this.reads.referrers(caller, name, digest, artifactType ?? null);
    if (artifactType) res.setHeader('OCI-Filters-Applied', 'artifactType');
    res.status(200).setHeader('Content-Type', 'application/vnd.oci.image.index.v1+json').end(body);
  }

  @Post('*name/blobs/uploads')
  @RegistryRoute('push')
  async startUpload(
    @Caller() caller: RegistryCaller,
    @RepositoryName() name: string,
    @Query('digest') digest: string | undefined,
    @Query('mount') mount: string | undefined,
    @Query('from') from: string | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const started = await this.writes.startUpload(caller, name, { digest, mount, from }, req, lengthOf(req));
    if (started.kind === 'created') {
      sendCreated(res, `/v2/${name}/blobs/${started.digest}`, started.digest);
      return;
    }
    // Each chunk becomes one stored part: chunks of a whole part keep a session's parts few (s3 driver).
    const min = this.writes.chunkMinLength;
    if (min) res.setHeader('OCI-Chunk-Min-Length', String(min));
    sendUploadState(res, name, started.upload, 202);
  }

  @Patch('*name/blobs/uploads/:id')
  @RegistryRoute('push')
  async appendUpload(
    @Caller() caller: RegistryCaller,
    @RepositoryName() name: string,
    @Param('id') id: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const state = await this.writes.append(
      caller,
      name,
      id,
      req,
      chunkRange(req.headers['content-range']),
      lengthOf(req),
    );
    sendUploadState(res, name, state, 202);
  }

  @Put('*name/blobs/uploads/:id')
  @RegistryRoute('push')
  async finishUpload(
    @Caller() caller: RegistryCaller,
    @RepositoryName() name: string,
    @Param('id') id: string,
    @Query('digest') digest: string | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const done = await this.writes.finishUpload(
      caller,
      name,
      id,
      digest,
      hasBody(req) ? req : null,
      lengthOf(req),
      chunkRange(req.headers['content-range']),
    );
    sendCreated(res, `/v2/${name}/blobs/${done}`, done);
  }

  @Get('*name/blobs/uploads/:id')
  @RegistryRoute('push')
  async uploadState(
    @Caller() caller: RegistryCaller,
    @RepositoryName() name: string,
    @Param('id') id: string,
    @Res() res: Response,
  ): Promise<void> {
    sendUploadState(res, name, await this.writes.uploadState(caller, name, id), 204);
  }

  @Delete('*name/blobs/uploads/:id')
  @RegistryRoute('push')
  async cancelUpload(
    @Caller() caller: RegistryCaller,
    @RepositoryName() name: string,
    @Param('id') id: string,
    @Res() res: Response,
  ): Promise<void> {
    await this.writes.cancelUpload(caller, name, id);
    res.status(204).end();
  }

  @Get('*name/blobs/:digest')
  @RegistryRoute('pull')
  async blob(
    @Caller() caller: RegistryCaller,
    @RepositoryName() name: string,
    @Param('digest') digest: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const blob = await this.reads.blob(caller, name, digest);
    const range = byteRange(req.headers.range, blob.size);
    res
      .setHeader('Content-Type', 'application/octet-stream')
      .setHeader('Docker-Content-Digest', blob.digest)
      .setHeader('ETag', `"${blob.digest}"`)
      .setHeader('Accept-Ranges', 'bytes')
      .setHeader(
        'Cache-Control',
        caller.kind === 'anonymous'
          ? 'public, max-age=31536000, immutable'
          : 'private, max-age=31536000, immutable',
      );
    if (range) {
      res.status(206).setHeader('Content-Range', `bytes ${range.start}-${range.end}/${blob.size}`);
      res.setHeader('Content-Length', String(range.end - range.start + 1));
    } else {
      res.status(200).setHeader('Content-Length', String(blob.size));
    }
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    if (!range) {
      const chart = await this.reads.chartLayerOf(blob.open, blob.digest);
      if (chart) {
        this.downloads.count(chart.chartId, chart.version, {
          // Another publisher's free chart pulled with a license is not that license's download.
          licenseId:
            caller.kind === 'license' && caller.chartId === chart.chartId ? caller.licenseId : undefined,
          address: req.ip ?? req.socket.remoteAddress,
          userAgent: req.headers['user-agent'],
        });
      }
    }
    if (blob.size === 0) res.end();
    else {
      await this.reads.send(blob, res, range ?? undefined).catch((error: unknown) => {
        if (!res.headersSent) throw error; // nothing written yet: the error filter answers
        res.destroy();
      });
    }
  }

  @Delete('*name/blobs/:digest')
  @RegistryRoute('push')
  async deleteBlob(
    @Caller() caller: RegistryCaller,
    @RepositoryName() name: string,
    @Param('digest') digest: string,
    @Res() res: Response,
  ): Promise<void> {
    await this.writes.deleteBlob(caller, name, digest);
    res.status(202).setHeader('Content-Length', '0').end();
  }
}
