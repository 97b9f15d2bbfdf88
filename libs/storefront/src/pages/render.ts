import { ChartPageModel, HomePageModel, SearchPageModel, PublisherPageModel } from '../catalog-pages.service';
import { h } from '../html/jsx';
import { HomePage, MessagePage, PublisherPage, SearchPage } from './catalog';
import { BuyFormState, ChartPage } from './chart';
import { LicenseShown, LocalOnboardingPage, LocalPayPage, PendingPage, SuccessPage } from './checkout';
import { ConfirmEmailPage, ForgotPasswordPage, ResetPasswordPage } from './account';
import { PageContext, renderPage } from './layout';
import { ConfirmSignInPage, KeyShown, LinkSentPage, MyLicenseRow, MyLicensesPage, SignInPage } from './my';

/**
 * The pages' policy: nothing inline, scripts, styles and images from the store itself (images also from
 * https, for chart icons and README images), forms post to the store (and continue to Stripe Checkout,
 * or to Stripe Connect's onboarding and dashboard from the console's payouts page).
 */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https:; " +
  "form-action 'self' https://checkout.stripe.com https://connect.stripe.com; frame-ancestors 'none'; base-uri 'none'";

/** Every page as a complete HTML document. */
export const pageHtml = {
  home: (ctx: PageContext, model: HomePageModel) => renderPage(h(HomePage, { ctx, model })),
  search: (ctx: PageContext, model: SearchPageModel) => renderPage(h(SearchPage, { ctx, model })),
  chart: (ctx: PageContext, m: ChartPageModel, buy?: BuyFormState) =>
    renderPage(h(ChartPage, { ctx, m, buy })),
  publisher: (ctx: PageContext, model: PublisherPageModel) => renderPage(h(PublisherPage, { ctx, model })),
  message: (ctx: PageContext, title: string, text: string) =>
    renderPage(h(MessagePage, { ctx, title, children: text })),
  checkoutSuccess: (ctx: PageContext, license: LicenseShown) => renderPage(h(SuccessPage, { ctx, license })),
  checkoutPending: (ctx: PageContext, chart: string) => renderPage(h(PendingPage, { ctx, chart })),
  myLicenses: (ctx: PageContext, p: { email: string; licenses: MyLicenseRow[]; shown?: KeyShown }) =>
    renderPage(h(MyLicensesPage, { ctx, ...p })),
  signIn: (ctx: PageContext, p: { email?: string; error?: string; notice?: string } = {}) =>
    renderPage(h(SignInPage, { ctx, ...p })),
  linkSent: (ctx: PageContext) => renderPage(h(LinkSentPage, { ctx })),
  confirmSignIn: (ctx: PageContext, token: string) => renderPage(h(ConfirmSignInPage, { ctx, token })),
  confirmEmail: (ctx: PageContext, token: string) => renderPage(h(ConfirmEmailPage, { ctx, token })),
  forgotPassword: (ctx: PageContext, p: { email?: string; error?: string; notice?: string } = {}) =>
    renderPage(h(ForgotPasswordPage, { ctx, ...p })),
  resetPassword: (ctx: PageContext, token: string, error?: string) =>
    renderPage(h(ResetPasswordPage, { ctx, token, error })),
  localPay: (ctx: PageContext, p: { chart: string; price: string; action: string }) =>
    renderPage(h(LocalPayPage, { ctx, ...p })),
  localOnboarding: (ctx: PageContext, action: string) => renderPage(h(LocalOnboardingPage, { ctx, action })),
};
