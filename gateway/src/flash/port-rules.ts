// Which serial ports POST /api/flash may open (firmware.ports): absolute paths, `*` matching any
// characters but `/`. A path is judged as given, after refusing `.`/`..` segments and doubled slashes.
import path from 'node:path';

export type PortCheck = { ok: true } | { ok: false; reason: string };

function patternToRegExp(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]*');
  return new RegExp(`^${body}$`);
}

export interface PortRules {
  patterns: string[];
  check(port: string): PortCheck;
}

/** The allow-list from the config text, or why a pattern cannot be one (not an absolute path). */
export function portRules(list: string): { ok: true; rules: PortRules } | { ok: false; reason: string } {
  const patterns = list.split(',').map((p) => p.trim()).filter((p) => p !== '');
  const relative = patterns.find((p) => !p.startsWith('/'));
  if (relative !== undefined) return { ok: false, reason: `"${relative}" is not an absolute path` };
  const compiled = patterns.map(patternToRegExp);
  const rules: PortRules = {
    patterns,
    check(port) {
      if (!port.startsWith('/') || path.posix.normalize(port) !== port) return { ok: false, reason: `port "${port}" is not a plain absolute path` };
      if (compiled.some((re) => re.test(port))) return { ok: true };
      const allowed = patterns.length > 0 ? `firmware.ports allows ${patterns.join(', ')}` : 'firmware.ports is empty: no port may be flashed from the API';
      return { ok: false, reason: `port ${port} is not one the API may open (${allowed})` };
    },
  };
  return { ok: true, rules };
}
