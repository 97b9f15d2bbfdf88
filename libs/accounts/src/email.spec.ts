import { DomainError } from '@berth/common';
import { acceptableEmail, canonicalEmail } from './email';
import { slugRefusal } from './scopes';

describe('e-mail identity', () => {
  it.each([
    ['ops@acme.example', 'ops@acme.example'],
    ['  OPS@Acme.Example ', 'ops@acme.example'],
    ['ｏｐｓ@ａｃｍｅ.example', 'ops@acme.example'], // fullwidth
    ['ＯＰＳ@acme.example', 'ops@acme.example'],
    ['o.p+s@xn--bcher-kva.example', 'o.p+s@xn--bcher-kva.example'],
  ])('folds %j to %j, at sign-up and at login alike', (input, folded) => {
    expect(acceptableEmail(input)).toBe(folded);
    expect(canonicalEmail(input)).toBe(folded);
  });

  it.each([
    '"ops"@acme.example', // quoted local part
    '"ops@acme.example"@acme.example',
    'оps@acme.example', // Cyrillic о
    'o\u0301ps@acme.example', // combining accent
    'ops@bücher.example', // IDN not in punycode form
    'ops@acme.exampl\u0435', // Cyrillic е
    'ops(comment)@acme.example',
    'o..ps@acme.example',
    '.ops@acme.example',
    'ops@-acme.example',
    'ops@acme',
    '@acme.example',
  ])('refuses %j with email_not_accepted', (input) => {
    let thrown: unknown;
    try {
      acceptableEmail(input);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(DomainError);
    expect((thrown as DomainError).code).toBe('email_not_accepted');
  });
});

describe('publisher slugs', () => {
  it.each([
    'xn--abc',
    'a--b',
    'stripe',
    'webhooks',
    'openapi',
    'swagger',
    'tokens',
    'null',
    'undefined',
    'constructor',
    'prototype',
  ])('refuses %j', (slug) => expect(slugRefusal(slug)).not.toBeNull());
  it.each(['acme', 'a-b-c', 'xn-a', 'nullable', 'stripes'])('accepts %j', (slug) =>
    expect(slugRefusal(slug)).toBeNull(),
  );
});
