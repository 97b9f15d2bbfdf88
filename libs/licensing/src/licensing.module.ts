import { Module } from '@nestjs/common';
import { LicenseService } from './license.service';
import { LicenseStatusCache } from './license-status-cache';
import { SigningKeysService } from './signing-keys.service';
import { VerifiedKeyCache } from './verified-key-cache';

@Module({
  providers: [LicenseService, LicenseStatusCache, SigningKeysService, VerifiedKeyCache],
  exports: [LicenseService, SigningKeysService, VerifiedKeyCache],
})
export class LicensingModule {}
