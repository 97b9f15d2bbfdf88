import { h, Html } from '../html/jsx';
import { PageContext, renderPage } from '../pages/layout';
import { ChartPage } from '../pages/chart';
import { ChartPageModel } from '../catalog-pages.service';
import { ConsoleChartPage, ConsoleChartsPage } from './charts';
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
  /** The chart page as buyers would see it, for a draft too (no buy form is shown as usable). */
  preview: (ctx: PageContext, m: ChartPageModel) => renderPage(h(ChartPage, { ctx, m })),
};
