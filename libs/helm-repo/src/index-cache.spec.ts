import { gunzipSync } from 'node:zlib';
import { assembleIndex, ChartFragment, PublicIndex } from './index-cache';

const fragment = (name: string, versions: string[], isPublic = true): ChartFragment => {
  const json = versions.length
    ? Buffer.from(`${JSON.stringify(name)}:${JSON.stringify(versions.map((version) => ({ name, version })))}`)
    : null;
  return {
    name,
    json,
    hash: json ? `h-${name}-${versions.join('+')}` : '',
    public: isPublic,
    chartId: `id-${name}`,
    versionChangedAt: 0,
    listingChangedAt: 0,
  };
};
const bytes = (parts: Buffer[]) => Buffer.concat(parts);
const GENERATED = new Date('2026-11-30T12:00:00.000Z');
const LATER = new Date('2026-12-01T08:30:00.000Z');
const CONTEXT = '/base/helm/acme';

describe('PublicIndex', () => {
  const publicCharts = () => [
    fragment('beta', ['2.0.0', '1.0.0']),
    fragment('empty', []),
    fragment('kappa', ['1.0.0']),
  ];

  it('is the bytes assembleIndex writes, JSON.stringify of the whole index, held once', () => {
    const fragments = publicCharts();
    const expected = bytes(assembleIndex(fragments, GENERATED, CONTEXT).parts);
    const index = new PublicIndex(fragments, GENERATED, CONTEXT);
    expect(bytes(index.body.parts).equals(expected)).toBe(true);
    expect(index.body.length).toBe(expected.length);
    const parsed = JSON.parse(expected.toString()) as Record<string, unknown>;
    expect(JSON.stringify(parsed)).toBe(expected.toString());
    expect(parsed.serverInfo).toEqual({ contextPath: CONTEXT });
    // The fragments now point into the index's own segment, bytes unchanged.
    expect(fragments[0].json!.buffer).toBe(index.body.parts[1].buffer);
    expect(fragments[0].json!.toString()).toBe(fragment('beta', ['2.0.0', '1.0.0']).json!.toString());
    expect(index.has('beta')).toBe(true);
    expect(index.has('empty')).toBe(false);
    expect(index.has('gamma')).toBe(false);
  });

  it.each([
    ['before every chart', 'alpha'],
    ['between two charts', 'gamma'],
    ['after every chart', 'zeta'],
  ])("splices a buyer's chart in %s: the same bytes and ETag as assembling the spliced list", (_, name) => {
    const own = fragment(name, ['3.1.0'], false);
    const index = new PublicIndex(publicCharts(), GENERATED, CONTEXT);
    const view = index.withChart(own, LATER, CONTEXT);
    const spliced = [...publicCharts(), fragment(name, ['3.1.0'], false)].sort((a, b) =>
      a.name < b.name ? -1 : 1,
    );
    const expected = assembleIndex(spliced, LATER, CONTEXT);
    expect(bytes(view.parts).equals(bytes(expected.parts))).toBe(true);
    expect(view.length).toBe(expected.length);
    expect(view.etag).toBe(expected.etag);
    expect(view.etag).not.toBe(index.body.etag);
    const parsed = JSON.parse(bytes(view.parts).toString()) as { entries: Record<string, unknown> };
    expect(Object.keys(parsed.entries)).toEqual(spliced.filter((f) => f.json).map((f) => f.name));
  });

  it("gives a buyer of a free chart (nothing to splice) the public bytes under the buyer's date", () => {
    const index = new PublicIndex(publicCharts(), GENERATED, CONTEXT);
    const view = index.withChart(null, LATER, CONTEXT);
    expect(bytes(view.parts).equals(bytes(assembleIndex(publicCharts(), LATER, CONTEXT).parts))).toBe(true);
  });

  it('splices into an empty public index', async () => {
    const index = new PublicIndex([fragment('empty', [])], GENERATED, CONTEXT);
    expect(JSON.parse(bytes(index.body.parts).toString())).toEqual({
      apiVersion: 'v1',
      entries: {},
      generated: GENERATED.toISOString(),
      serverInfo: { contextPath: CONTEXT },
    });
    const own = fragment('paid', ['1.0.0'], false);
    let kept = 0;
    const view = index.withChart(own, LATER, CONTEXT, (gz) => (kept = gz.length));
    const text = bytes(view.parts).toString();
    expect(JSON.parse(text)).toEqual({
      apiVersion: 'v1',
      entries: { paid: [{ name: 'paid', version: '1.0.0' }] },
      generated: LATER.toISOString(),
      serverInfo: { contextPath: CONTEXT },
    });
    expect(view.gzipped()).toBeUndefined();
    const gz = await view.gzip();
    expect(gunzipSync(gz).toString()).toBe(text);
    expect([view.gzipped(), kept]).toEqual([gz, gz.length]);
    expect(view.gzipEtag).toBe(view.etag.replace(/"$/, '-gz"'));
  });

  describe('at scale, in segments', () => {
    const many = (n: number, bump = -1) =>
      Array.from({ length: n }, (_, i) =>
        fragment(`chart-${String(i).padStart(4, '0')}`, i === bump ? ['2.0.0', '1.0.0'] : ['1.0.0']),
      );

    it('rebuilds only the segment of the chart that changed and reuses every other one', () => {
      const first = new PublicIndex(many(600), GENERATED, CONTEXT);
      const segments = first.body.parts.filter((p) => p !== first.body.parts[0] && p.length > 1);
      expect(segments.length).toBeGreaterThan(5);
      const changed = many(600, 300);
      const second = new PublicIndex(changed, LATER, CONTEXT, first);
      expect(
        bytes(second.body.parts).equals(bytes(assembleIndex(many(600, 300), LATER, CONTEXT).parts)),
      ).toBe(true);
      const before = new Set(first.body.parts.map((p) => p.buffer));
      const fresh = second.body.parts.filter((p) => p.length > 1 && !before.has(p.buffer));
      // The new segment and the new tail; every other segment is the old one's memory.
      expect(fresh).toHaveLength(2);
      expect(fresh[0].includes('"chart-0300":[{"name":"chart-0300","version":"2.0.0"}')).toBe(true);
    });

    it('splices a buyer chart at every position, segment boundaries included, as assembling the list would', () => {
      const pad = (i: number) => String(i).padStart(4, '0');
      const index = new PublicIndex(many(300), GENERATED, CONTEXT);
      for (let at = 0; at <= 300; at++) {
        // Sorts right after chart-(at-1) and before chart-(at).
        const own = fragment(at === 0 ? 'a-paid' : `chart-${pad(at - 1)}-paid`, ['1.0.0'], false);
        const view = index.withChart(own, LATER, CONTEXT);
        const expected = assembleIndex(
          [...many(300), own].sort((a, b) => (a.name < b.name ? -1 : 1)),
          LATER,
          CONTEXT,
        );
        expect([at, bytes(view.parts).equals(bytes(expected.parts)), view.etag]).toEqual([
          at,
          true,
          expected.etag,
        ]);
      }
    });
  });
});
