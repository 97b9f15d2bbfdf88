import { Injectable } from '@nestjs/common';
import { ChartQueryService, ListingService } from '@berth/catalog';
import { LicenseService, LicenseView, newestStable } from '@berth/licensing';
import { MailOutbox } from '@berth/mail';
import semver from 'semver';
import { DataSource } from 'typeorm';
import { CommerceErrors } from './errors';
import { LICENSE_MAIL } from './license-mail';

/** Complimentary licenses: no order, same keys and entitlement rules as a purchase. */
@Injectable()
export class LicenseGrantService {
  constructor(
    private readonly listings: ListingService,
    private readonly charts: ChartQueryService,
    private readonly licenses: LicenseService,
    private readonly mail: MailOutbox,
    private readonly dataSource: DataSource,
  ) {}

  async grant(
    publisher: { id: string; slug: string },
    chartName: string,
    email: string,
    versionRange?: string,
  ): Promise<LicenseView & { key: string }> {
    const listing = await this.listings.find(publisher.id, chartName);
    const versions =
      (await this.charts.listVersions(publisher.id, 'publisher', chartName)).get(chartName) ?? [];
    if (!versions.length) throw CommerceErrors.ChartNotForSale(`No chart named ${chartName}.`);
    // `semver` quietly widens an empty alternative ("1 || " means "1 || *"): a grant must say what it means.
    const normalised = versionRange === undefined ? null : semver.validRange(versionRange);
    const emptyAlternative =
      versionRange !== undefined && versionRange.split('||').some((set) => set.trim() === '');
    if (versionRange !== undefined && (normalised === null || emptyAlternative)) {
      throw CommerceErrors.VersionRangeInvalid('versionRange is not a valid semver range.');
    }
    if (normalised !== null && normalised.length > 255) {
      throw CommerceErrors.VersionRangeInvalid(
        'versionRange is too long once written out as comparators (255 characters).',
      );
    }
    const policy =
      listing?.updatePolicy === 'window'
        ? { kind: 'window' as const, months: listing.updateWindowMonths ?? 12 }
        : { kind: (listing?.updatePolicy ?? 'all') as 'all' | 'major' | 'minor' };
    const input = {
      orderId: null,
      publisherId: publisher.id,
      publisherSlug: publisher.slug,
      chartId: versions[0].chartId,
      chartName,
      buyerEmail: email.trim().toLowerCase(),
      policy,
      newestStable: newestStable(versions.map((v) => v.version)),
      // Stored (and signed) in semver's normalised form: explicit comparators only ("^1.2.0" becomes
      // ">=1.2.0 <2.0.0-0"), which is what offline verifiers without a semver library can evaluate.
      versionRange: normalised ?? undefined,
    };
    const license = await this.dataSource.transaction(async (m) => {
      const issued = await this.licenses.issue(input, m);
      await this.mail.enqueue(m, { kind: LICENSE_MAIL, subject: issued.id, to: issued.buyerEmail });
      return issued;
    });
    return { ...license, key: this.licenses.keyFor(license) };
  }
}
