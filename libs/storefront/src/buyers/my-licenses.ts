import { coverageSentence } from '@berth/commerce';
import { licenseCommands, LicenseView } from '@berth/licensing';
import type { MyLicenseRow } from '../pages/my';

/** Why a license is not active, as its holder reads it. */
function statusNote(l: LicenseView): string | null {
  if (l.status === 'active') return null;
  const why = l.reason ? ` (${l.reason.replace(/_/g, ' ')})` : '';
  if (l.status === 'suspended')
    return `Suspended${why}: a payment dispute is open. It works again once the dispute is settled.`;
  const note = l.publisherNote ? ` The publisher says: “${l.publisherNote}”` : '';
  return `Revoked${why}: this license no longer opens the repository.${note}`;
}

/** A license as "My licenses" (page and `/v1/buyer/licenses`) shows it, with the commands for its holder. */
export function myLicenseRow(l: LicenseView, publicUrl: string): MyLicenseRow {
  const repoUrl = `${publicUrl}/helm/${l.publisher}`;
  const registry = licenseCommands({ publicUrl, publisher: l.publisher, chart: l.chart, licenseId: l.id });
  return {
    id: l.id,
    publisher: l.publisher,
    chart: l.chart,
    status: l.status,
    statusNote: statusNote(l),
    coverage: coverageSentence(l),
    issuedOn: l.issuedAt.toISOString().slice(0, 10),
    addCommand: `helm repo add ${l.publisher} ${repoUrl} --username ${l.id} --password-stdin`,
    installCommand: `helm repo update\nhelm install ${l.chart} ${l.publisher}/${l.chart}`,
    ociInstallCommand: registry.ociInstallCommand,
    pullSecretCommand: registry.pullSecretCommand,
  };
}
