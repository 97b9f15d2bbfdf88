/**
 * A server-only JSX runtime that renders straight to an HTML string: typed components, every text and
 * attribute value escaped unless it is already `Html`, no DOM types in the program (preact's JSX types pull
 * `lib.dom` into every file of the app), no client code. The `.tsx` files use it through the classic
 * transform (`jsxFactory: "h"`), importing `h` and `Fragment` from here.
 */

/** Markup that is safe to place in a page as is: what this renderer made, or a sanitizer's output. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** Trusted markup: only for the output of a sanitizer (the Markdown renderer) or of this module. */
export const raw = (html: string): Html => new Html(html);

export type Child = Html | string | number | boolean | null | undefined | readonly Child[];
type AttributeValue = string | number | boolean | null | undefined;
export type Attributes = { [name: string]: AttributeValue | Child; children?: Child };
export type Component<P> = (props: P) => Html;

const VOID = new Set(['area', 'base', 'br', 'col', 'hr', 'img', 'input', 'link', 'meta', 'source', 'wbr']);
const NAME = /^[a-z][a-z0-9-]*$/;
const ATTRIBUTE = /^[a-z][a-z0-9-]*$/;
/** Attributes that navigate or load: a value with another scheme (javascript:, data:, ...) is dropped. */
const URL_ATTRIBUTES = new Set(['href', 'src', 'action', 'formaction']);
const SAFE_URL = /^(?:https?:|mailto:|[/?#.]|[^:]*$)/i;

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c]);

function childHtml(child: Child, out: string[]): void {
  if (child === null || child === undefined || child === false || child === true) return;
  if (child instanceof Html) out.push(child.value);
  else if (Array.isArray(child)) for (const c of child as readonly Child[]) childHtml(c, out);
  else out.push(escapeHtml(String(child)));
}

function attributesHtml(tag: string, props: Attributes): string {
  let html = '';
  for (const [name, value] of Object.entries(props)) {
    if (name === 'children' || value === null || value === undefined || value === false) continue;
    // Names are the code's, never data's; event handlers would be inline script, which the CSP forbids.
    if (!ATTRIBUTE.test(name) || name.startsWith('on'))
      throw new Error(`<${tag}>: attribute ${name} not allowed`);
    if (value === true) {
      html += ` ${name}`;
      continue;
    }
    const text = value instanceof Html ? value.value : String(value as AttributeValue);
    if (URL_ATTRIBUTES.has(name) && !SAFE_URL.test(text.trim())) continue;
    html += ` ${name}="${escapeHtml(text)}"`;
  }
  return html;
}

export function h<P>(type: Component<P>, props: P | null, ...children: Child[]): Html;
export function h(type: string, props: Attributes | null, ...children: Child[]): Html;
export function h(
  type: string | Component<Record<string, unknown>>,
  props: Record<string, unknown> | null,
  ...children: Child[]
): Html {
  const kids: Child = children.length === 0 ? undefined : children.length === 1 ? children[0] : children;
  if (typeof type === 'function')
    return type({ ...props, ...(kids !== undefined ? { children: kids } : {}) });
  if (!NAME.test(type)) throw new Error(`element <${type}> not allowed`);
  const attributes = props as Attributes | null;
  const out = [`<${type}${attributes ? attributesHtml(type, attributes) : ''}>`];
  if (VOID.has(type)) return new Html(out[0]);
  childHtml(kids ?? attributes?.children, out);
  out.push(`</${type}>`);
  return new Html(out.join(''));
}

export function Fragment(props: { children?: Child }): Html {
  const out: string[] = [];
  childHtml(props.children, out);
  return new Html(out.join(''));
}

/** A whole page: the doctype and the root element. */
export const renderDocument = (root: Html): string => `<!doctype html>\n${root.value}`;

// The classic JSX transform looks for the JSX namespace on the factory.
// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace h {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace JSX {
    type Element = Html;
    interface IntrinsicElements {
      [tag: string]: Attributes;
    }
    interface ElementChildrenAttribute {
      children: unknown;
    }
  }
}
