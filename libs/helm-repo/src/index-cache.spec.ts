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
    expect(index.body.parts).toHaveLength(1);
    expect(index.body.parts[0].equals(expected)).toBe(true);
    expect(index.body.length).toBe(expected.length);
    const parsed = JSON.parse(expected.toString()) as Record<string, unknown>;
    expect(JSON.stringify(parsed)).toBe(expected.toString());
    expect(parsed.serverInfo).toEqual({ contextPath: CONTEXT });
    // The fragments now point into the one buffer, bytes unchanged.
    expect(fragments[0].json!.buffer).toBe(index.body.parts[0].buffer);
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
    expect(JSON.parse(index.body.parts[0].toString())).toEqual({
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
});
