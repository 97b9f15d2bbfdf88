import { linkIn, tokenOf, type Mailpit } from './mailpit';

/** The sign-in link in a login-link mail, as a buyer would click it. */
export const signInLinkIn = (text: string): string | undefined => linkIn(text, '/my/sign-in');

/** The buyer session cookie a response set (name=value, ready for a Cookie header), if any. */
export function buyerCookieFrom(res: Response): string | undefined {
  const set = res.headers.getSetCookie().find((c) => c.startsWith('berth_buyer='));
  const pair = set?.split(';')[0];
  return pair && pair !== 'berth_buyer=' ? pair : undefined;
}

const signInMails = async (mailpit: Mailpit, email: string) =>
  (await mailpit.messages()).filter((m) => m.to.includes(email) && /sign-in link/i.test(m.subject));

/**
 * Asks for a sign-in link for `email` (expects 202), waits for the new sign-in mail to arrive in Mailpit
 * and returns the link it carries.
 */
export async function requestSignInLink(baseUrl: string, mailpit: Mailpit, email: string): Promise<string> {
  const before = (await signInMails(mailpit, email)).length;
  const res = await fetch(`${baseUrl}/v1/buyer/login-links`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email }),
  });
  if (res.status !== 202) throw new Error(`POST /v1/buyer/login-links ${res.status}: ${await res.text()}`);
  const until = Date.now() + 15_000;
  for (;;) {
    const mails = await signInMails(mailpit, email);
    if (mails.length > before) {
      const link = signInLinkIn(mails[mails.length - 1].text);
      if (!link) throw new Error(`no sign-in link in the mail to ${email}:\n${mails[mails.length - 1].text}`);
      return link;
    }
    if (Date.now() > until) throw new Error(`no sign-in mail reached ${email} within 15 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Opens a buyer session with a link's token the way the confirm page's form does; returns the cookie. */
export async function openBuyerSession(baseUrl: string, link: string): Promise<string> {
  const res = await fetch(`${baseUrl}/my/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: tokenOf(link) }).toString(),
    redirect: 'manual',
  });
  const cookie = buyerCookieFrom(res);
  if (res.status !== 303 || !cookie) throw new Error(`POST /my/sign-in ${res.status}: ${await res.text()}`);
  return cookie;
}
