import { Module } from '@nestjs/common';
import { AccountsModule } from '@berth/accounts';
import { CatalogModule } from '@berth/catalog';
import { CatalogPages } from './catalog-pages.service';

/** The public pages' read models and rendering; controllers live at the HTTP edge (apps/store). */
@Module({ imports: [CatalogModule, AccountsModule], providers: [CatalogPages], exports: [CatalogPages] })
export class StorefrontModule {}
