import { ACCOUNTS_ENTITIES } from '@berth/accounts';
import { ANALYTICS_ENTITIES } from '@berth/analytics';
import { AUDIT_ENTITIES } from '@berth/audit';
import { CATALOG_ENTITIES } from '@berth/catalog';
import { COMMERCE_ENTITIES } from '@berth/commerce';
import { DATABASE_ENTITIES } from '@berth/database';
import { LICENSING_ENTITIES } from '@berth/licensing';
import { MAIL_ENTITIES } from '@berth/mail';
import { PAYOUTS_ENTITIES } from '@berth/payouts';
import { REGISTRY_ENTITIES } from '@berth/registry';
import { STOREFRONT_ENTITIES } from '@berth/storefront';

/** Every entity of every context: the one schema the migrations describe. */
export const ENTITIES = [
  ...ACCOUNTS_ENTITIES,
  ...CATALOG_ENTITIES,
  ...LICENSING_ENTITIES,
  ...COMMERCE_ENTITIES,
  ...DATABASE_ENTITIES,
  ...MAIL_ENTITIES,
  ...STOREFRONT_ENTITIES,
  ...ANALYTICS_ENTITIES,
  ...AUDIT_ENTITIES,
  ...REGISTRY_ENTITIES,
  ...PAYOUTS_ENTITIES,
];
