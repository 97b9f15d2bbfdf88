import { h, Html } from '../html/jsx';
import { EmailField, Layout, Notice, PageContext } from './layout';

/**
 * What the confirmation mail's link opens: one button. The link is used up by the POST, not by opening
 * it, so a mail scanner that follows links does not spend it.
 */
export function ConfirmEmailPage(props: { ctx: PageContext; token: string }): Html {
  return (
    <Layout ctx={props.ctx} title="Confirm your e-mail address">
      <h1>Confirm your e-mail address</h1>
      <p>One click and your publisher account can sign in.</p>
      <form method="post" action={`${props.ctx.basePath}/account/verify`}>
        <input type="hidden" name="token" value={props.token} />
        <button type="submit">Confirm my address</button>
      </form>
    </Layout>
  );
}

/** Asks for the address of an account whose password was forgotten. */
export function ForgotPasswordPage(props: {
  ctx: PageContext;
  email?: string;
  error?: string;
  notice?: string;
}): Html {
  return (
    <Layout ctx={props.ctx} title="Reset your password">
      <h1>Reset your password</h1>
      <Notice text={props.notice} />
      <p>Enter your publisher account's e-mail address. We send it a link that works once, for 30 minutes.</p>
      <form method="post" action={`${props.ctx.basePath}/account/forgot`} class="buy">
        <EmailField id="forgot-email" label="E-mail address" value={props.email} error={props.error} />
        <button type="submit">E-mail me a reset link</button>
      </form>
    </Layout>
  );
}

/** What the reset mail's link opens: a new password, twice. */
export function ResetPasswordPage(props: { ctx: PageContext; token: string; error?: string }): Html {
  return (
    <Layout ctx={props.ctx} title="Choose a new password">
      <h1>Choose a new password</h1>
      <p>At least 10 characters. Setting it signs you out everywhere.</p>
      <form method="post" action={`${props.ctx.basePath}/account/reset`} class="buy">
        <input type="hidden" name="token" value={props.token} />
        <label for="reset-password">New password</label>
        <input
          id="reset-password"
          type="password"
          name="password"
          required
          minlength={10}
          maxlength={256}
          autocomplete="new-password"
          aria-invalid={props.error ? 'true' : undefined}
          aria-describedby={props.error ? 'reset-password-error' : undefined}
        />
        <label for="reset-password-again">The same again</label>
        <input
          id="reset-password-again"
          type="password"
          name="again"
          required
          minlength={10}
          maxlength={256}
          autocomplete="new-password"
        />
        {props.error ? (
          <p id="reset-password-error" class="field-error" role="alert">
            {props.error}
          </p>
        ) : null}
        <button type="submit">Set the new password</button>
      </form>
    </Layout>
  );
}
