import { defineErrors, ErrorKind } from '@berth/common';

export enum StorefrontErrorCode {
  LoginLinkInvalid = 'login_link_invalid',
  BuyerSessionRequired = 'buyer_session_required',
}

/** Each storefront code's kind and message, declared once; throw `StorefrontErrors.<Code>(…)`. */
export const StorefrontErrors = defineErrors(StorefrontErrorCode, {
  LoginLinkInvalid: {
    kind: ErrorKind.Invalid,
    message: 'This sign-in link has expired or was already used. Ask for a new one.',
  },
  BuyerSessionRequired: {
    kind: ErrorKind.Unauthenticated,
    message: 'Sign in with the link we e-mail you to see your licenses.',
  },
});
