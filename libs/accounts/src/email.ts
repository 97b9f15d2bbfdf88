import { AccountsErrors } from './errors';

/**
 * The one spelling of an e-mail address under which an account is stored and looked up: NFKC (so
 * fullwidth and other compatibility forms fold to their plain letters), trimmed, the whole address
 * lower-cased. Used at sign-up and at login, so either form of an address logs in.
 */
export function canonicalEmail(input: string): string {
  return input.normalize('NFKC').trim().toLowerCase();
}

/**
 * canonicalEmail, refusing what could let one mailbox hold two accounts: after NFKC the address must
 * be plain ASCII (a Cyrillic "а" that looks like a Latin "a" is refused; an internationalised domain is
 * given in its punycode `xn--` form), and quoted local parts (`"ops"@…`), comments and other RFC 5322
 * oddities that mail servers read as the same mailbox are refused.
 */
export function acceptableEmail(input: string): string {
  const email = canonicalEmail(input);
  // Dot-atom local part only: letters, digits and the usual specials, no leading, trailing or double dot.
  const local = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
  const domain = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
  const at = email.lastIndexOf('@');
  if (at <= 0 || email.length > 320 || !local.test(email.slice(0, at)) || !domain.test(email.slice(at + 1))) {
    throw AccountsErrors.EmailNotAccepted();
  }
  return email;
}
