import MarkdownIt from 'markdown-it';

/** Links open only web pages; anything else (`javascript:`, `data:`, relative paths into the archive) is text. */
const WEB_LINK = /^https?:\/\/[^\s]+$/i;
/** Images load only over https: the pages' CSP allows `img-src 'self' https:`, and a mixed-content image would not show. */
const HTTPS_IMAGE = /^https:\/\/[^\s]+$/i;
/** Publishers' links are theirs, not the store's: no ranking credit, no window.opener, no referrer. */
const LINK_REL = 'nofollow ugc noopener noreferrer';
/**
 * Block nesting beyond this is rendered as text. markdown-it's own default (100) lets a few KB of `>` or list
 * markers produce thousands of open elements; twenty levels is more than any README needs.
 */
const MAX_NESTING = 20;

function createRenderer() {
  // html: false escapes every tag in the source, so the only markup in the output is markdown-it's own.
  const md = new MarkdownIt({ html: false, linkify: true, typographer: false, maxNesting: MAX_NESTING });
  md.validateLink = (url) => WEB_LINK.test(url.trim());
  const renderToken = md.renderer.renderToken.bind(md.renderer);
  md.renderer.rules.link_open = (tokens, idx, options) => {
    tokens[idx].attrSet('rel', LINK_REL);
    return renderToken(tokens, idx, options);
  };
  const image = md.renderer.rules.image!;
  md.renderer.rules.image = (tokens, idx, options, env, self) => {
    const token = tokens[idx];
    if (!HTTPS_IMAGE.test(String(token.attrGet('src') ?? ''))) {
      // An http image would be blocked by the CSP anyway: show its description instead.
      return md.utils.escapeHtml(self.renderInlineAsText(token.children ?? [], options, env));
    }
    token.attrSet('loading', 'lazy');
    token.attrSet('referrerpolicy', 'no-referrer');
    return image(tokens, idx, options, env, self);
  };
  return md;
}

const renderer = createRenderer();

/**
 * A publisher's Markdown (a chart's README) as HTML that is safe to place in a page: raw HTML is shown as
 * text, links go to http(s) only with `rel="nofollow ugc noopener noreferrer"`, images are https only.
 * The page's CSP (no inline script, scripts from the store only) is the second line of defence.
 */
export function renderUntrustedMarkdown(source: string): string {
  return renderer.render(source);
}
