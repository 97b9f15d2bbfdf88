/** Error codes owned by the shared kernel (used by more than one context). */
export enum CommonErrorCode {
  CursorInvalid = 'cursor_invalid',
}
