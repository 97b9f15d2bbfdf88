import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { InspectedChart, inspectChartArchive } from './inspection';

/** The archive inspector with the limits of this deployment's configuration. */
@Injectable()
export class ChartInspector {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  inspect(archive: Buffer): Promise<InspectedChart> {
    const u = this.config.uploads;
    return inspectChartArchive(archive, {
      maxDecompressedBytes: u.maxDecompressedBytes,
      maxFileBytes: u.maxFileBytes,
      maxEntries: u.maxEntries,
    });
  }
}
