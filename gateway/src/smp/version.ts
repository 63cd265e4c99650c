// Image versions as MCUmgr servers report them in image state: Zephyr writes "X.Y.Z" and adds
// ".B" when the build number is not 0; others write "X.Y.Z+B". Both are read.
import type { ImageVersion } from '../firmware/image-format.js';

export function mcumgrVersionString(v: ImageVersion): string {
  const base = `${v.major}.${v.minor}.${v.revision}`;
  return v.build ? `${base}.${v.build}` : base;
}

export function parseReportedVersion(text: string): ImageVersion | null {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:[.+](\d+))?$/.exec(text.trim());
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]), revision: Number(m[3]), build: Number(m[4] ?? 0) };
}

export function sameVersion(reported: string, expected: ImageVersion): boolean {
  const v = parseReportedVersion(reported);
  return v !== null && v.major === expected.major && v.minor === expected.minor && v.revision === expected.revision && v.build === expected.build;
}
