import { ErrorKind } from '@berth/common';
import { inspectChartArchive } from './index';
import { minimalChartYaml, tgz } from './testing/archives';
import { expectDomainError } from './testing/expect-domain-error';

// Counts what the inspector's gunzip stream actually inflates (a second 'data' listener changes nothing).
const mockInflated = { bytes: 0 };
jest.mock('node:zlib', () => {
  const actual = jest.requireActual<typeof import('node:zlib')>('node:zlib');
  return {
    ...actual,
    createGunzip: (options?: import('node:zlib').ZlibOptions) => {
      const gunzip = actual.createGunzip(options);
      gunzip.on('data', (chunk: Buffer) => (mockInflated.bytes += chunk.length));
      return gunzip;
    },
  };
});

const MiB = 1024 * 1024;

describe('inspectChartArchive: gzip bombs are never inflated in full', () => {
  beforeEach(() => (mockInflated.bytes = 0));

  it('stops inflating as soon as the decompressed limit is passed (zeros after the end of the tar)', async () => {
    const bomb = await tgz([{ name: 'demo/Chart.yaml', data: minimalChartYaml() }], {
      trailingZeros: 40 * MiB,
    });
    expect(bomb.length).toBeLessThan(100 * 1024);
    await expectDomainError(
      inspectChartArchive(bomb, { maxDecompressedBytes: MiB }),
      'archive_too_large',
      ErrorKind.TooLarge,
    );
    expect(mockInflated.bytes).toBeGreaterThan(MiB);
    expect(mockInflated.bytes).toBeLessThan(2 * MiB);
  });

  it('refuses a 101 MiB file from its tar header, having inflated almost nothing', async () => {
    const bomb = await tgz([
      { name: 'demo/Chart.yaml', data: minimalChartYaml() },
      { name: 'demo/bomb', zeros: 101 * MiB },
    ]);
    expect(bomb.length).toBeLessThan(200 * 1024);
    await expectDomainError(inspectChartArchive(bomb), 'archive_too_large', ErrorKind.TooLarge);
    expect(mockInflated.bytes).toBeLessThan(MiB);
  });
});
