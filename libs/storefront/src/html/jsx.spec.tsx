import { escapeHtml, Fragment, h, Html, raw, renderDocument } from './jsx';

const Card = (props: { title: string; children?: unknown }) => (
  <section class="card">
    <h2>{props.title}</h2>
    {props.children as Html}
  </section>
);

describe('the JSX runtime', () => {
  it('escapes text and attribute values, and passes Html through', () => {
    const html = (
      <p title={`"><script>x</script>`} data-n={3} hidden>
        {'<b>&'}
        {raw('<em>ok</em>')}
        {[1, null, false, 'two']}
      </p>
    ).value;
    expect(html).toBe(
      '<p title="&quot;&gt;&lt;script&gt;x&lt;/script&gt;" data-n="3" hidden>&lt;b&gt;&amp;<em>ok</em>1two</p>',
    );
  });

  it('renders components with children, fragments and void elements', () => {
    const html = renderDocument(
      <Fragment>
        <Card title="A & B">
          <img src="https://x.example/i.png" alt="" />
        </Card>
      </Fragment>,
    );
    expect(html).toBe(
      '<!doctype html>\n<section class="card"><h2>A &amp; B</h2><img src="https://x.example/i.png" alt=""></section>',
    );
  });

  it('drops navigating attributes with another scheme than http(s), mailto or a relative path', () => {
    for (const bad of ['javascript:alert(1)', ' JavaScript:alert(1)', 'data:text/html,x', 'vbscript:x']) {
      expect((<a href={bad}>x</a>).value).toBe('<a>x</a>');
    }
    for (const good of ['https://a.example/', '/charts?q=a:b', '#top', 'mailto:a@b.example', 'page']) {
      expect((<a href={good}>x</a>).value).toBe(`<a href="${escapeHtml(good)}">x</a>`);
    }
  });

  it('refuses event handler attributes and odd element or attribute names', () => {
    expect(() => <img onerror="x" />).toThrow(/onerror/);
    expect(() => h('scr ipt', null)).toThrow(/not allowed/);
    expect(() => h('p', { 'x"y': 1 })).toThrow(/not allowed/);
  });
});
