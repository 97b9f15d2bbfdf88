export { LicensingModule } from './licensing.module';
export { LICENSING_ENTITIES } from './entities';
export { LicensingErrorCode, LicensingErrors } from './errors';
export type { LicenseInvalidReason } from './errors';
export { LicenseService, LICENSE_KEY_PREFIX, toLicenseView } from './license.service';
export type {
  IssueLicenseInput,
  LicenseFilter,
  LicensePage,
  LicenseView,
  LicenseStatus,
  VerifiedLicense,
} from './license.service';
export { SigningKeysService, jwkThumbprint } from './signing-keys.service';
export { entitlementFor, covers, newestStable } from './update-policy';
export type { UpdatePolicy, Entitlement } from './update-policy';
export { VerifiedKeyCache } from './verified-key-cache';
export { licenseCommands, registryHost } from './install-commands';
export type { LicenseCommands, LicenseCommandsInput } from './install-commands';
