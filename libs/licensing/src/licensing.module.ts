import { Module } from '@nestjs/common';
import { LicenseService } from './license.service';
import { LicenseStatusCache } from './license-status-cache';
import { SigningKeysService } from './signing-keys.service';

@Module({
  providers: [LicenseService, LicenseStatusCache, SigningKeysService],
  exports: [LicenseService, SigningKeysService],
})
export class LicensingModule {}
