import { pipeline } from 'node:stream/promises';
import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { PublisherLogos } from '../publisher-logos';

/** How long the address without a digest may be kept: a new logo shows within this. */
const CURRENT_LOGO_MAX_AGE = 300;

/**
 * A publisher's uploaded logo, as the storefront shows it: `/publishers/{slug}/logo/{sha256}` never
 * changes (a new image is a new address), so it is cached for a year; `/publishers/{slug}/logo` is
 * whatever is current. The type is the one sniffed from the bytes at upload, never sniffed again by the
 * browser (nosniff, and the store's default policy that loads nothing).
 */
@ApiExcludeController()
@Controller('publishers/:slug/logo')
export class PublisherLogoController {
  constructor(private readonly logos: PublisherLogos) {}

  @Get()
  async current(@Param('slug') slug: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.send(slug, undefined, req, res);
  }

  @Get(':digest')
  async pinned(
    @Param('slug') slug: string,
    @Param('digest') digest: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.send(slug, digest, req, res);
  }

  private async send(slug: string, digest: string | undefined, req: Request, res: Response): Promise<void> {
    const logo = await this.logos.open(slug);
    if (!logo || (digest !== undefined && digest !== logo.sha256)) {
      logo?.body.destroy();
      res.status(404).setHeader('Cache-Control', 'no-store').type('text/plain').send('Not found');
      return;
    }
    const etag = `"${logo.sha256}"`;
    res.setHeader('Content-Type', logo.contentType);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Disposition', 'inline');
    res.setHeader(
      'Cache-Control',
      digest ? 'public, max-age=31536000, immutable' : `public, max-age=${CURRENT_LOGO_MAX_AGE}`,
    );
    res.setHeader('ETag', etag);
    if (req.headers['if-none-match'] === etag) {
      logo.body.destroy();
      res.status(304).end();
      return;
    }
    res.status(200);
    if (req.method === 'HEAD') {
      logo.body.destroy();
      res.end();
      return;
    }
    await pipeline(logo.body, res).catch(() => res.destroy());
  }
}
