import { DomainError } from '@berth/common';
import type { Request, Response } from 'express';
import { domainErrorBody } from '../error.filter';
import { sendPage } from '../page-response';

/** What an action's success says on the page it returns to (`?done=`): fixed words, nothing echoed. */
export const CONSOLE_DONE = {
  uploaded: 'The version was uploaded.',
  yanked: 'The version was yanked: it is gone from every index, and licenses that hold it keep it.',
  listing: 'The listing was saved.',
  refunded:
    'The refund was asked for. A Stripe order is marked refunded, and its license revoked, when Stripe confirms.',
  revoked: 'The license was revoked. Its holder sees your reason on My licenses.',
  reinstated: 'The license was reinstated.',
  resent: 'The license e-mail was sent again.',
  tokenRevoked: 'The token was revoked.',
  profile: 'The profile was saved.',
  feeSet: "The publisher's fee was set: checkouts opened from now on pay it.",
  feeCleared: "The publisher pays the store's fee again, from the next checkout.",
} as const;
export type ConsoleDone = keyof typeof CONSOLE_DONE;

/** The notice for a page opened after an action (PRG), if its `?done=` names one. */
export function doneNotice(req: Request): { text: string } | undefined {
  const key = req.query.done;
  return typeof key === 'string' && Object.hasOwn(CONSOLE_DONE, key)
    ? { text: CONSOLE_DONE[key as ConsoleDone] }
    : undefined;
}

/** After a successful change: back to a page with GET (a reload does not repeat the change). */
export function redirectDone(res: Response, url: string, done: ConsoleDone): void {
  res.setHeader('Cache-Control', 'no-store');
  res.redirect(303, `${url}${url.includes('?') ? '&' : '?'}done=${done}`);
}

/** A console page: personal, never cached. */
export function sendConsolePage(req: Request, res: Response, html: string, status = 200): void {
  sendPage(req, res, status, html, 'no-store');
}

/**
 * Runs a form's action; a refusal the API would answer with a 4xx (same code, same words) is shown on
 * the form's page with that status instead, so the publisher can correct it. Anything else is thrown.
 */
export async function formAction(
  work: () => Promise<void>,
  refused: (notice: { text: string; error: true }, status: number) => Promise<void> | void,
): Promise<void> {
  try {
    await work();
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    const body = domainErrorBody(e);
    if (body.status >= 500) throw e;
    await refused({ text: e.message, error: true }, body.status);
  }
}
