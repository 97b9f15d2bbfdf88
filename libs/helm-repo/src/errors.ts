import { defineErrors, ErrorKind, sentence } from '@berth/common';

export enum HelmRepoErrorCode {
  RepositoryNotFound = 'repository_not_found',
  ChartFileNotFound = 'chart_file_not_found',
  RepositoryCredentialsInvalid = 'repository_credentials_invalid',
  LicenseRequired = 'license_required',
  LicenseInactive = 'license_inactive',
}

/** Each helm-repo code's kind and message, declared once; throw `HelmRepoErrors.<Code>(…)`. */
export const HelmRepoErrors = defineErrors(HelmRepoErrorCode, {
  RepositoryNotFound: { kind: ErrorKind.NotFound, message: 'No such repository.' },
  ChartFileNotFound: { kind: ErrorKind.NotFound, message: 'No such chart file in this repository.' },
  // One message per failure path it covers, none of which may help guessing a credential.
  RepositoryCredentialsInvalid: { kind: ErrorKind.Unauthenticated, message: sentence },
  LicenseRequired: {
    kind: ErrorKind.Unauthenticated,
    message:
      'This chart version requires a license that covers it; add the repository with your license key.',
  },
  LicenseInactive: {
    kind: ErrorKind.Unauthenticated,
    message: (state: 'suspended' | 'revoked') => `This license is ${state}; contact the publisher.`,
  },
});
