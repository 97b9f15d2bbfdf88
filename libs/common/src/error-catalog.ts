import { DomainError, ErrorKind } from './domain-error';

/**
 * How one stable error code fails: its kind (the HTTP edge maps kinds to statuses) and its message, a
 * sentence or a function of the typed things it names. Messages never carry secrets, SQL, paths or
 * bucket names.
 */
export interface ErrorSpec {
  readonly kind: ErrorKind;
  readonly message: string | ((...args: never[]) => string);
  /** Seconds a client should wait before retrying (`Retry-After`): fixed, or from the message's arguments. */
  readonly retryAfterSeconds?: number | ((...args: never[]) => number);
}

/**
 * For a code that covers several distinct failures of one kind (e.g. `chart_yaml_invalid`): the throw
 * site says which, in one sentence.
 */
export const sentence = (message: string): string => message;

type MessageArgs<S extends ErrorSpec> = S['message'] extends (...args: infer A) => string ? A : [];

/** One factory per code: `CatalogErrors.ChartVersionExists(name, version)` is the error to throw. */
export type ErrorFactories<Codes, Specs extends { [K in keyof Codes]: ErrorSpec }> = {
  readonly [K in keyof Codes]: (...args: MessageArgs<Specs[K]>) => DomainError;
};

/**
 * Declares a library's errors in one place: `codes` (its `…ErrorCode` enum, where every code string is
 * written once) and, for each member, its kind and message. The compiler refuses a code without a spec.
 * Throw sites call the returned factories, never build a `DomainError` from a string.
 */
export function defineErrors<
  const Codes extends Record<string, string>,
  const Specs extends { [K in keyof Codes]: ErrorSpec },
>(codes: Codes, specs: Specs): ErrorFactories<Codes, Specs> {
  const factories: Record<string, (...args: never[]) => DomainError> = {};
  for (const key of Object.keys(codes)) {
    const spec: ErrorSpec = specs[key];
    const code = codes[key];
    factories[key] = (...args: never[]) => {
      const message = typeof spec.message === 'function' ? spec.message(...args) : spec.message;
      const retry = spec.retryAfterSeconds;
      const retryAfterSeconds = typeof retry === 'function' ? retry(...args) : retry;
      return new DomainError(
        spec.kind,
        code,
        message,
        retryAfterSeconds === undefined ? {} : { retryAfterSeconds },
      );
    };
  }
  return factories as ErrorFactories<Codes, Specs>;
}
