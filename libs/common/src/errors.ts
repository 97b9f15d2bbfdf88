import { defineErrors } from './error-catalog';
import { ErrorKind } from './domain-error';

/** Error codes owned by the shared kernel (used by more than one context). */
export enum CommonErrorCode {
  CursorInvalid = 'cursor_invalid',
}

/** Each shared code's kind and message, declared once; throw `CommonErrors.<Code>()`. */
export const CommonErrors = defineErrors(CommonErrorCode, {
  CursorInvalid: { kind: ErrorKind.Invalid, message: 'The cursor is not one this store handed out.' },
});
