export { AuditModule } from './audit.module';
export { AuditLog, AUDIT_ACTIONS } from './audit-log';
export type { AuditAction, AuditActor, AuditEntry, AuditEventView, AuditFilter } from './audit-log';
export { AUDIT_ENTITIES, AuditEventEntity } from './entities';
