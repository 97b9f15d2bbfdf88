export { StorefrontModule } from './storefront.module';
export { CatalogPages } from './catalog-pages.service';
export { RenderedPages, pageEtag, RENDERED_PAGE_TTL_MS } from './rendered-pages';
export type { RenderedPage } from './rendered-pages';
export type {
  ChartCard,
  ChartPageModel,
  HomePageModel,
  PublisherPageModel,
  SearchPageModel,
} from './catalog-pages.service';
export { publisherLogoUrl } from './publisher-logo';
export { renderUntrustedMarkdown } from './markdown';
export { PAGE_ASSETS, STYLESHEET_ASSET, SCRIPT_ASSET } from './assets';
export type { Asset } from './assets';
export { coverageToday } from './policy';
export { diffValues, schemaRows, changelog, MAX_DIFF_BYTES } from './documents';
export { pageHtml, PAGE_CSP } from './pages/render';
export type { PageContext } from './pages/layout';
export type { BuyFormState } from './pages/chart';
export type { LicenseShown } from './pages/checkout';
export { STOREFRONT_ENTITIES, BuyerLoginLinkEntity, BuyerSessionEntity } from './buyers/entities';
export { StorefrontErrors, StorefrontErrorCode } from './buyers/errors';
export {
  BuyerSignInService,
  BUYER_LOGIN_MAIL,
  BUYER_SESSION_DAYS,
  LOGIN_LINK_MINUTES,
} from './buyers/buyer-sign-in.service';
export type { OpenedBuyerSession } from './buyers/buyer-sign-in.service';
export type { KeyShown, MyLicenseRow } from './pages/my';
export { myLicenseRow } from './buyers/my-licenses';
export { consoleHtml } from './console/render';
export type { ListingForm, ConsoleChartRow, ConsoleVersionRow, ConsoleNotice } from './console/charts';
export type { ConsolePublisher } from './console/layout';
export type {
  ConsoleAnalyticsFilter,
  ConsoleAnalyticsReport,
  ConsoleAuditRow,
  ConsoleProfileForm,
  ConsoleTokenForm,
  ConsoleTokenRow,
} from './console/admin';
export type {
  ConsoleListFilters,
  ConsoleOrderTotalsRow,
  ConsoleOrderRow,
  ConsoleLicenseRow,
  ConsoleGrantForm,
  ConsoleTimelineRow,
} from './console/sales';
export type { ConsolePayoutState } from './console/payouts';
export type {
  OperatorExposureRow,
  OperatorFeeForm,
  OperatorPublisherRow,
  OperatorReportRow,
} from './console/operator';
