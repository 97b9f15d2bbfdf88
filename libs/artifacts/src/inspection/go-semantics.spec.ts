import {
  foldGoFieldName,
  formatGoFloat32,
  parseGoInt,
  resolvePlainScalar,
  resolveTaggedScalar,
  sanitizeGoString,
} from './go-semantics';
import { decodeGoYaml } from './go-yaml';

// Expected values are Go's own output (strconv, yaml.v2, helm's sanitizeString); the helm-parity suite checks
// the same functions end to end against `helm repo index` on 1000+ more values.
describe('Go semantics', () => {
  it.each([
    [1.1, '1.1'],
    [2, '2'],
    [1e6, '1e+06'],
    [123456, '123456'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [12345678.9, '1.2345679e+07'],
    [218.328125, '218.32812'], // an exact tie: Go rounds half to even
    [0.1, '0.1'],
    [-1.5e-10, '-1.5e-10'],
    [3.5e38, '+Inf'],
    [NaN, 'NaN'],
    [-Infinity, '-Inf'],
    [-0, '-0'],
  ])('FormatFloat(%p, g, -1, 32) = %p', (v, expected) => {
    expect(formatGoFloat32(v)).toBe(expected);
  });

  it('ParseInt(s, 0, 64)', () => {
    expect(parseGoInt('0x1F')).toBe(31n);
    expect(parseGoInt('0755')).toBe(493n);
    expect(parseGoInt('-0b11')).toBe(-3n);
    expect(parseGoInt('08')).toBeUndefined();
    expect(parseGoInt('9223372036854775808')).toBeUndefined();
    expect(parseGoInt('-9223372036854775808')).toBe(-(2n ** 63n));
  });

  it('resolves plain scalars like yaml.v2 (YAML 1.1)', () => {
    expect(resolvePlainScalar('yes')).toEqual({ kind: 'bool', value: true });
    expect(resolvePlainScalar('Off')).toEqual({ kind: 'bool', value: false });
    expect(resolvePlainScalar('~')).toEqual({ kind: 'null' });
    expect(resolvePlainScalar('1_000')).toEqual({ kind: 'int', value: 1000n });
    expect(resolvePlainScalar('18446744073709551615')).toEqual({ kind: 'int', value: 2n ** 64n - 1n });
    expect(resolvePlainScalar('1.0')).toEqual({ kind: 'float', value: 1 });
    expect(resolvePlainScalar('.5')).toEqual({ kind: 'float', value: 0.5 });
    expect(resolvePlainScalar('1.0.0')).toEqual({ kind: 'string', value: '1.0.0' });
    expect(resolvePlainScalar('2020-01-01')).toEqual({ kind: 'string', value: '2020-01-01' });
    expect(resolveTaggedScalar('float', '1')).toEqual({ kind: 'float', value: 1 });
    expect(() => resolveTaggedScalar('int', 'abc')).toThrow();
  });

  it('decodes merges, aliases and quoted scalars', () => {
    expect(decodeGoYaml('a: &x {k: 1}\nb:\n  <<: *x\n  j: "2"\n')).toEqual({
      kind: 'map',
      entries: [
        [
          { kind: 'string', value: 'a' },
          {
            kind: 'map',
            entries: [
              [
                { kind: 'string', value: 'k' },
                { kind: 'int', value: 1n },
              ],
            ],
          },
        ],
        [
          { kind: 'string', value: 'b' },
          {
            kind: 'map',
            entries: [
              [
                { kind: 'string', value: 'k' },
                { kind: 'int', value: 1n },
              ],
              [
                { kind: 'string', value: 'j' },
                { kind: 'string', value: '2' },
              ],
            ],
          },
        ],
      ],
    });
  });

  it("sanitises like Helm's sanitizeString", () => {
    expect(sanitizeGoString('a\tb\nc\u00a0d\u2028e')).toBe('a b c d e');
    expect(sanitizeGoString('zero\u200bwidth\u0007bell\ufeffbom\u00adsoft')).toBe('zerowidthbellbomsoft');
    expect(sanitizeGoString('emoji 🎉 é')).toBe('emoji 🎉 é');
  });

  it('folds field names like encoding/json', () => {
    expect(foldGoFieldName('apiversion')).toBe(foldGoFieldName('APIVERSION'));
    expect(foldGoFieldName('\u017fources')).toBe(foldGoFieldName('sources'));
    expect(foldGoFieldName('\u212aeywords')).toBe(foldGoFieldName('keywords'));
  });
});
