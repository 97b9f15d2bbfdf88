import { Module } from '@nestjs/common';
import { AuditLog } from './audit-log';

/** The publishers' audit log: what their owners and tokens did, from where. */
@Module({ providers: [AuditLog], exports: [AuditLog] })
export class AuditModule {}
