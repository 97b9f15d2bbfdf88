export * from './entities';
export * from './mail-outbox';
export * from './mail-sender';
export * from './mail-transport';
export * from './mail.module';
