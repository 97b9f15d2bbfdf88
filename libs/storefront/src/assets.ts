import { createHash } from 'node:crypto';

/**
 * The one stylesheet and the one script of every page, served by the store itself under names that carry
 * their hash, so they are cached for good and the pages' CSP (`style-src 'self'; script-src 'self'`)
 * needs nothing inline.
 */
const STYLESHEET = `
:root{--ink:#17202a;--muted:#5b6672;--line:#dde2e8;--soft:#f4f6f8;--brand:#1b4dd8;--brand-ink:#fff;--ok:#1f7a3a;--warn:#9a5b00;--bad:#b42318;
  --mono:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;color-scheme:light}
*{box-sizing:border-box}
body{margin:0;font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:#fff}
a{color:var(--brand)}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible{outline:3px solid #7aa2ff;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:.5rem;background:#fff;padding:.25rem .5rem;z-index:2}
header.site{border-bottom:1px solid var(--line);background:var(--soft)}
header.site .bar{max-width:72rem;margin:0 auto;padding:.6rem 1rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
.brand{font-weight:700;font-size:1.2rem;text-decoration:none;color:var(--ink)}
header.site form{flex:1;display:flex;gap:.5rem;min-width:14rem}
header.site nav{display:flex;gap:1rem}
main{max-width:72rem;margin:0 auto;padding:1.25rem 1rem 3rem}
footer.site{border-top:1px solid var(--line);color:var(--muted);font-size:.875rem}
footer.site p{max-width:72rem;margin:0 auto;padding:1rem}
h1{font-size:1.75rem;line-height:1.2;margin:.25rem 0 .75rem}
h2{font-size:1.3rem;margin:1.75rem 0 .75rem}
h3{font-size:1.05rem;margin:1.25rem 0 .5rem}
input,select,button,textarea{font:inherit}
input[type=search],input[type=email],input[type=text],select{padding:.45rem .6rem;border:1px solid #9aa5b1;border-radius:6px;background:#fff;color:var(--ink)}
input[type=search]{flex:1;min-width:0}
button,.button{display:inline-block;padding:.45rem 1rem;border-radius:6px;border:1px solid var(--brand);background:var(--brand);color:var(--brand-ink);cursor:pointer;text-decoration:none}
button.secondary{background:#fff;color:var(--brand)}
.muted{color:var(--muted)}
.small{font-size:.875rem}
.hero{padding:1rem 0 .5rem}
.hero form{display:flex;gap:.5rem;max-width:40rem}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(17rem,1fr));gap:1rem;padding:0;margin:0;list-style:none}
.card{border:1px solid var(--line);border-radius:10px;padding:1rem;display:flex;flex-direction:column;gap:.35rem;background:#fff}
.card h3{margin:0;font-size:1.05rem;display:flex;gap:.5rem;align-items:center}
.card p{margin:0}
.icon{width:40px;height:40px;object-fit:contain;flex:none}
.icon.big{width:64px;height:64px}
.tag{display:inline-block;font-size:.75rem;padding:.05rem .45rem;border-radius:99px;border:1px solid var(--line);background:var(--soft);color:var(--muted);margin:0 .25rem .25rem 0}
.price{font-weight:600}
.price.free{color:var(--ok)}
.badge{display:inline-block;font-size:.8rem;padding:.1rem .5rem;border-radius:4px;border:1px solid currentColor}
.badge.signed{color:var(--ok)}
.badge.status-active{color:var(--ok)}
.badge.status-suspended,.badge.status-revoked{color:var(--bad)}
section.license{border:1px solid var(--line);border-radius:8px;padding:0 1rem 1rem;margin:1rem 0}
.actions{display:flex;gap:.5rem;flex-wrap:wrap;margin-top:.75rem}
.filters{display:flex;gap:.75rem;flex-wrap:wrap;align-items:end;margin:.5rem 0 1rem}
.filters label{display:flex;flex-direction:column;font-size:.875rem;color:var(--muted)}
.pager{display:flex;gap:1rem;align-items:center;margin-top:1.5rem}
.chart-head{display:flex;gap:1rem;align-items:flex-start}
.chart-layout{display:grid;grid-template-columns:minmax(0,1fr) 22rem;gap:2rem}
@media (max-width:60rem){.chart-layout{grid-template-columns:1fr}}
aside.box{border:1px solid var(--line);border-radius:10px;padding:1rem;align-self:start;background:var(--soft)}
aside.box h2{margin-top:0}
pre,code{font-family:var(--mono);font-size:.875rem}
pre{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:.75rem;overflow:auto;white-space:pre}
pre.wrap{white-space:pre-wrap;word-break:break-all}
.copy{display:flex;gap:.5rem;align-items:flex-start}
.copy pre{flex:1;margin:0}
.copy button{flex:none}
nav.tabs{display:flex;gap:1rem;border-bottom:1px solid var(--line);margin:1.25rem 0 0;flex-wrap:wrap}
nav.tabs a{padding:.4rem 0;text-decoration:none}
.readme{overflow-wrap:anywhere}
.readme img{max-width:100%}
.readme pre{white-space:pre}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--soft)}
.diff .add{background:#e6ffec;display:block}
.diff .del{background:#ffebe9;display:block}
.diff .same{display:block;color:var(--muted)}
.notice{border-left:4px solid var(--brand);background:var(--soft);padding:.6rem .9rem;margin:1rem 0}
.notice.error{border-color:var(--bad)}
.field-error{color:var(--bad);margin:.25rem 0}
form.buy{display:flex;flex-direction:column;gap:.5rem}
ul.plain{list-style:none;padding:0;margin:0}
ul.changes{margin:.25rem 0 0;padding-left:1.2rem}
nav.tabs.console{max-width:72rem;margin:0 auto;padding:0 1rem;border-bottom:0}
nav.tabs.console a[aria-current=page]{font-weight:600;text-decoration:underline}
form.narrow{max-width:32rem}
form.inline{display:inline-block;margin:0 .25rem .25rem 0}
header.site form.inline{flex:none;min-width:0}
input[type=password],input[type=number],input[type=date],input[type=file],textarea{padding:.45rem .6rem;border:1px solid #9aa5b1;border-radius:6px;background:#fff;color:var(--ink)}
fieldset{border:1px solid var(--line);border-radius:6px;padding:.5rem .75rem;display:flex;flex-direction:column;gap:.35rem}
label.choice{display:flex;gap:.4rem;align-items:baseline}
meter{width:8rem;vertical-align:middle}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
`;

/** Copy buttons: `<button data-copy="id">` copies the text of the element with that id. */
const SCRIPT = `for (const b of document.querySelectorAll('button[data-copy]')) {
  b.hidden = false;
  b.addEventListener('click', () => {
    const text = document.getElementById(b.dataset.copy).textContent;
    navigator.clipboard.writeText(text).then(() => { b.textContent = 'Copied'; });
  });
}
`;

/** The store's mark: an anchor, drawn in the brand colour. */
const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#1b4dd8"/><path d="M16 6v20M11 10h10M7 18c1 5 5 8 9 8s8-3 9-8" fill="none" stroke="#fff" stroke-width="2.5" stroke-linecap="round"/></svg>`;

export interface Asset {
  path: string;
  body: Buffer;
  contentType: string;
  etag: string;
}

function asset(name: string, ext: string, text: string, contentType: string): Asset {
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 12);
  return { path: `/assets/${name}-${hash}.${ext}`, body: Buffer.from(text), contentType, etag: `"${hash}"` };
}

export const STYLESHEET_ASSET = asset('berth', 'css', STYLESHEET, 'text/css; charset=utf-8');
export const SCRIPT_ASSET = asset('berth', 'js', SCRIPT, 'text/javascript; charset=utf-8');
export const ICON_ASSET = asset('berth', 'svg', ICON, 'image/svg+xml');
export const PAGE_ASSETS: readonly Asset[] = [STYLESHEET_ASSET, SCRIPT_ASSET, ICON_ASSET];
