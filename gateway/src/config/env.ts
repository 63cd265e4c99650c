// Environment overrides: SPOT_GATEWAY_<SECTION>_<KEY> for every key of the schema, coerced per type.

export const ENV_PREFIX = 'SPOT_GATEWAY_';

export interface LeafKey {
  /** Key path in the config, e.g. ['http', 'port'] or ['data_dir']. */
  path: string[];
  type: 'integer' | 'number' | 'string' | 'boolean';
  envName: string;
}

interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
}

/** Every leaf key of the schema with its variable name. */
export function leafKeys(schema: SchemaNode, prefix: string[] = []): LeafKey[] {
  const keys: LeafKey[] = [];
  for (const [name, node] of Object.entries(schema.properties ?? {})) {
    const path = [...prefix, name];
    if (node.type === 'object') keys.push(...leafKeys(node, path));
    else keys.push({ path, type: node.type as LeafKey['type'], envName: ENV_PREFIX + path.join('_').toUpperCase() });
  }
  return keys;
}

export type Coerced = { ok: true; value: unknown } | { ok: false; reason: string };

export function coerce(key: LeafKey, text: string): Coerced {
  const trimmed = text.trim();
  switch (key.type) {
    case 'integer':
      return /^-?\d+$/.test(trimmed) ? { ok: true, value: Number(trimmed) } : { ok: false, reason: `"${text}" is not an integer` };
    case 'number': {
      const value = Number(trimmed);
      return trimmed !== '' && Number.isFinite(value) ? { ok: true, value } : { ok: false, reason: `"${text}" is not a number` };
    }
    case 'boolean':
      if (/^(true|1|yes|on)$/i.test(trimmed)) return { ok: true, value: true };
      if (/^(false|0|no|off)$/i.test(trimmed)) return { ok: true, value: false };
      return { ok: false, reason: `"${text}" is not a boolean` };
    default:
      return { ok: true, value: text };
  }
}

/** Writes value at path, creating sections; `undefined` removes the key. */
export function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const part of path.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  const last = path[path.length - 1]!;
  if (value === undefined) delete node[last];
  else node[last] = value;
}
