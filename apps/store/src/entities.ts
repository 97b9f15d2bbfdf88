import { ACCOUNTS_ENTITIES } from '@berth/accounts';
import { CATALOG_ENTITIES } from '@berth/catalog';

/** Every entity of every context: the one schema the migrations describe. */
export const ENTITIES = [...ACCOUNTS_ENTITIES, ...CATALOG_ENTITIES];
