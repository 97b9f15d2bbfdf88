import { h, Html } from '../html/jsx';
import { PageContext, renderPage } from '../pages/layout';
import { ChartPage } from '../pages/chart';
import { ChartPageModel } from '../catalog-pages.service';
import { ConsoleChartPage, ConsoleChartsPage } from './charts';
import { ConsoleAnalyticsPage, ConsoleAuditPage, ConsoleProfilePage, ConsoleTokensPage } from './admin';
import { ConsolePayoutsPage } from './payouts';
import { ConsoleOperatorPage } from './operator';
import { ConsoleCustomersPage, ConsoleGrantedPage, ConsoleLicensesPage, ConsoleOrdersPage } from './sales';
import { ConsoleCheckMailPage, ConsoleHomePage, ConsoleSignInPage, ConsoleSignUpPage } from './layout';

type Props<C> = C extends (props: infer P) => Html ? Omit<P, 'ctx'> : never;

/** Every console page as a complete HTML document (the storefront's renderer, look and CSP). */
export const consoleHtml = {
  signIn: (ctx: PageContext, p: Props<typeof ConsoleSignInPage> = {}) =>
    renderPage(h(ConsoleSignInPage, { ctx, ...p })),
  signUp: (ctx: PageContext, p: Props<typeof ConsoleSignUpPage> = {}) =>
    renderPage(h(ConsoleSignUpPage, { ctx, ...p })),
  checkMail: (ctx: PageContext, p: Props<typeof ConsoleCheckMailPage>) =>
    renderPage(h(ConsoleCheckMailPage, { ctx, ...p })),
  home: (ctx: PageContext, p: Props<typeof ConsoleHomePage>) => renderPage(h(ConsoleHomePage, { ctx, ...p })),
  charts: (ctx: PageContext, p: Props<typeof ConsoleChartsPage>) =>
    renderPage(h(ConsoleChartsPage, { ctx, ...p })),
  chart: (ctx: PageContext, p: Props<typeof ConsoleChartPage>) =>
    renderPage(h(ConsoleChartPage, { ctx, ...p })),
  orders: (ctx: PageContext, p: Props<typeof ConsoleOrdersPage>) =>
    renderPage(h(ConsoleOrdersPage, { ctx, ...p })),
  licenses: (ctx: PageContext, p: Props<typeof ConsoleLicensesPage>) =>
    renderPage(h(ConsoleLicensesPage, { ctx, ...p })),
  granted: (ctx: PageContext, p: Props<typeof ConsoleGrantedPage>) =>
    renderPage(h(ConsoleGrantedPage, { ctx, ...p })),
  customers: (ctx: PageContext, p: Props<typeof ConsoleCustomersPage>) =>
    renderPage(h(ConsoleCustomersPage, { ctx, ...p })),
  tokens: (ctx: PageContext, p: Props<typeof ConsoleTokensPage>) =>
    renderPage(h(ConsoleTokensPage, { ctx, ...p })),
  payouts: (ctx: PageContext, p: Props<typeof ConsolePayoutsPage>) =>
    renderPage(h(ConsolePayoutsPage, { ctx, ...p })),
  operator: (ctx: PageContext, p: Props<typeof ConsoleOperatorPage>) =>
    renderPage(h(ConsoleOperatorPage, { ctx, ...p })),
  analytics: (ctx: PageContext, p: Props<typeof ConsoleAnalyticsPage>) =>
    renderPage(h(ConsoleAnalyticsPage, { ctx, ...p })),
  audit: (ctx: PageContext, p: Props<typeof ConsoleAuditPage>) =>
    renderPage(h(ConsoleAuditPage, { ctx, ...p })),
  profile: (ctx: PageContext, p: Props<typeof ConsoleProfilePage>) =>
    renderPage(h(ConsoleProfilePage, { ctx, ...p })),
  /** The chart page as buyers would see it, for a draft too (no buy form is shown as usable). */
  preview: (ctx: PageContext, m: ChartPageModel) => renderPage(h(ChartPage, { ctx, m })),
};
