import { Header } from '@nestjs/common';

/**
 * For routes whose answer carries a secret (license key, API or access token, the buyer's checkout
 * session id) or a publisher's customers: no browser, proxy or CDN may keep a copy.
 */
export const NoStore = (): MethodDecorator => Header('Cache-Control', 'no-store');
