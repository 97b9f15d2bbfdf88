/**
 * The publisher console over plain HTTP, as a browser drives it: a cookie session from the sign-in form,
 * form posts that carry the store's Origin (the console refuses changes without it).
 *
 * `store`: an in-process store (its PUBLIC_URL, the origin the console wants, is not the address it
 * listens on) or a base URL that is also the public one (a store process started with PUBLIC_URL).
 */
export type ConsoleTarget = string | { url: string; config: { publicUrl: string } };

const baseOf = (t: ConsoleTarget) => (typeof t === 'string' ? t : t.url);
/** The Origin a page of the store sends. */
export const storeOrigin = (t: ConsoleTarget) =>
  new URL(typeof t === 'string' ? t : t.config.publicUrl).origin;

/** The console session cookie (`name=value`) from signing in with the form; throws when refused. */
export async function consoleSignIn(
  store: ConsoleTarget,
  account: { email: string; password: string },
): Promise<string> {
  const res = await fetch(`${baseOf(store)}/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: storeOrigin(store) },
    body: new URLSearchParams(account).toString(),
  });
  const cookie = /^(berth_console=[^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
  if (res.status !== 303 || !cookie) throw new Error(`console sign-in ${res.status}: ${await res.text()}`);
  return cookie;
}

/** GET a console page with the session cookie (redirects not followed). */
export function consoleGet(store: ConsoleTarget, path: string, cookie: string): Promise<Response> {
  return fetch(`${baseOf(store)}${path}`, { redirect: 'manual', headers: { cookie, accept: 'text/html' } });
}

/**
 * POST a console form (urlencoded) with the session cookie and, unless `origin` says otherwise, the
 * store's own Origin; `origin: null` sends none.
 */
export function consoleForm(
  store: ConsoleTarget,
  path: string,
  cookie: string,
  fields: Record<string, string> = {},
  opts: { origin?: string | null; headers?: Record<string, string> } = {},
): Promise<Response> {
  const origin = opts.origin === undefined ? storeOrigin(store) : opts.origin;
  return fetch(`${baseOf(store)}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'text/html',
      cookie,
      ...(origin === null ? {} : { origin }),
      ...opts.headers,
    },
    body: new URLSearchParams(fields).toString(),
  });
}

/** POST a multipart form (a browser upload) to the console. */
export function consoleUpload(
  store: ConsoleTarget,
  path: string,
  cookie: string,
  files: Record<string, { bytes: Buffer; name: string }>,
): Promise<Response> {
  const form = new FormData();
  for (const [field, f] of Object.entries(files)) form.append(field, new Blob([f.bytes]), f.name);
  return fetch(`${baseOf(store)}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, accept: 'text/html', origin: storeOrigin(store) },
    body: form,
  });
}
