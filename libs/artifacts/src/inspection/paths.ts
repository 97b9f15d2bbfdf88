import { InspectionErrors } from './codes';

const DRIVE = /^[a-zA-Z]:/;

/**
 * Splits a tar entry name into its path segments, refusing anything that could point outside the chart:
 * NUL, backslashes, absolute paths, Windows drive letters, `..` segments. Empty and `.` segments are dropped,
 * so `./foo//bar` and `foo/bar` are the same path; `./` alone gives no segments (the archive root).
 */
export function entryPathSegments(name: string): string[] {
  const unsafe = () => InspectionErrors.ArchivePathUnsafe();
  if (name.includes('\0') || name.includes('\\') || name.startsWith('/') || DRIVE.test(name)) throw unsafe();
  const raw = name.split('/');
  if (raw.includes('..')) throw unsafe();
  const segments = raw.filter((s) => s !== '' && s !== '.');
  // Helm strips the top directory and then refuses a drive letter at the start of the rest.
  if (segments.slice(0, 2).some((s) => DRIVE.test(s))) throw unsafe();
  return segments;
}
