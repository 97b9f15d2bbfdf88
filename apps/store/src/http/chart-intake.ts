import { Inject, Injectable } from '@nestjs/common';
import { InspectionErrors } from '@berth/artifacts';
import { CatalogErrors, ChartUploadService, ProvenanceService } from '@berth/catalog';
import { APP_CONFIG, AppConfig } from '@berth/config';
import type { Request } from 'express';
import { HttpErrors } from './http-errors';
import { BodyPace, readUploadBody } from './upload-body';

/**
 * Bounds the uploads buffered in memory at once, and what one publisher may hold of them, so one
 * publisher's slow uploads never take every slot; the rest are told to retry.
 */
export class UploadSlots {
  private busy = 0;
  private readonly byPublisher = new Map<string, number>();
  constructor(
    private readonly max: number,
    private readonly maxPerPublisher: number,
  ) {}

  async run<T>(publisherId: string, work: () => Promise<T>): Promise<T> {
    if (this.busy >= this.max) {
      throw HttpErrors.UploadsBusy();
    }
    const mine = this.byPublisher.get(publisherId) ?? 0;
    if (mine >= this.maxPerPublisher) {
      throw HttpErrors.PublisherUploadsBusy(this.maxPerPublisher);
    }
    this.busy += 1;
    this.byPublisher.set(publisherId, mine + 1);
    try {
      return await work();
    } finally {
      this.busy -= 1;
      const left = (this.byPublisher.get(publisherId) ?? 1) - 1;
      if (left > 0) this.byPublisher.set(publisherId, left);
      else this.byPublisher.delete(publisherId);
    }
  }
}

/**
 * Receives a chart upload's body (raw `.tgz`, or multipart `chart` and `prov`), within the upload slots,
 * size cap and pace, and stores it: the ChartMuseum API and the console's upload form take the same
 * path, so the same checks and the same error codes.
 */
@Injectable()
export class ChartIntake {
  private readonly slots: UploadSlots;
  private readonly pace: BodyPace;

  constructor(
    private readonly uploads: ChartUploadService,
    private readonly provenance: ProvenanceService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    const u = config.uploads;
    this.slots = new UploadSlots(u.concurrency, u.concurrencyPerPublisher);
    this.pace = { idleTimeoutMs: u.idleTimeoutSeconds * 1000, minBytesPerSecond: u.minBytesPerSecond };
  }

  /** Stores the version (and provenance) in the body; returns what was stored, for the audit log. */
  receive(publisherId: string, req: Request): Promise<string> {
    return this.slots.run(publisherId, async () => {
      const body = await readUploadBody(req, this.config.uploads.maxBytes, this.pace);
      if (!body.chart?.length) {
        if (body.prov) {
          const attached = await this.provenance.attach(publisherId, body.prov);
          return `provenance of ${attached.name}@${attached.version}`;
        }
        throw InspectionErrors.ArchiveEmpty('The request holds no chart archive.');
      }
      const uploaded = await this.uploads.upload(publisherId, body.chart, body.prov);
      return `${uploaded.name}@${uploaded.version}${body.prov ? ' (with provenance)' : ''}`;
    });
  }

  /** A provenance file for a stored version (ChartMuseum's /prov); returns the version it signs. */
  async receiveProvenance(publisherId: string, req: Request): Promise<string> {
    const body = await this.slots.run(publisherId, () =>
      readUploadBody(req, this.config.uploads.maxBytes, this.pace),
    );
    const prov = body.prov ?? body.chart;
    if (!prov?.length) throw CatalogErrors.ProvenanceInvalid('The request holds no provenance file.');
    const attached = await this.provenance.attach(publisherId, prov);
    return `${attached.name}@${attached.version}`;
  }
}
