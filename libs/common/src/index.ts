export * from './domain-error';
export * from './errors';
export * from './page-cursor';
export * from './error-catalog';
export { SignedLinkIds } from './signed-links';
export { minorUnitDigits } from './currency';
