// The config update form: keys from the spot config schema (/dashboard/spot-config.json), each value checked
// against it before the command is sent; the gateway checks again and its reason is shown when it refuses.
import { api, fill, h } from './dom.js';

let schemaPromise = null;

function loadSchema() {
  schemaPromise ??= api('/dashboard/spot-config.json').then(({ status, body }) => {
    if (status !== 200) throw new Error(`the config schema could not be loaded (${status})`);
    return body;
  });
  return schemaPromise;
}

const encoder = new TextEncoder();
// eslint-disable-next-line no-control-regex -- control characters are what this pattern refuses
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** The value the input holds, as the schema types it, or a reason naming the key. */
export function parseValue(spec, text) {
  const t = text.trim();
  const bad = (why) => ({ error: `${spec.name}: ${why}` });
  switch (spec.type) {
    case 'int': {
      if (!/^-?\d+$/.test(t)) return bad(`expected an integer from ${spec.min} to ${spec.max}, got "${t}"`);
      const n = Number(t);
      return n < spec.min || n > spec.max ? bad(`${n} is outside ${spec.min} to ${spec.max}`) : { value: n };
    }
    case 'number': {
      const n = Number(t);
      if (t === '' || !Number.isFinite(n)) return bad(`expected a number from ${spec.min} to ${spec.max}, got "${t}"`);
      return n < spec.min || n > spec.max ? bad(`${n} is outside ${spec.min} to ${spec.max}`) : { value: n };
    }
    case 'bool':
      return t === 'true' || t === 'false' ? { value: t === 'true' } : bad('choose true or false');
    case 'enum':
      return spec.values.includes(t) ? { value: t } : bad(`expected one of ${spec.values.join(', ')}`);
    case 'ipv4':
      return IPV4.test(t) ? { value: t } : bad(`expected a dotted quad like 192.168.1.10, got "${t}"`);
    case 'string': {
      const size = encoder.encode(text).length;
      if (size > spec.maxLength) return bad(`${size} bytes, at most ${spec.maxLength}`);
      if (size < (spec.minLength ?? 0)) return bad(`at least ${spec.minLength} bytes`);
      if (CONTROL.test(text)) return bad('holds a control character');
      if (spec.chars === 'visible-ascii' && !/^[\x21-\x7e]*$/.test(text)) return bad('visible ASCII only (no spaces)');
      return { value: text };
    }
    case 'object': {
      let value;
      try {
        value = JSON.parse(t);
      } catch {
        return bad('not valid JSON');
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('expected a JSON object');
      const size = encoder.encode(JSON.stringify(value)).length;
      if (size > spec.maxLength) return bad(`${size} bytes as compact JSON, at most ${spec.maxLength}`);
      if (depth(value) > (spec.maxDepth ?? Infinity)) return bad(`nested deeper than ${spec.maxDepth} levels`);
      return { value };
    }
    default:
      return bad(`type ${spec.type} is not known to this page`);
  }
}

function depth(value) {
  if (typeof value !== 'object' || value === null) return 0;
  return 1 + Math.max(0, ...Object.values(value).map(depth));
}

function input(spec, current) {
  const common = { name: spec.name, id: `cfg-${spec.name}`, required: true };
  const shown = current === undefined ? spec.default : current;
  if (spec.type === 'bool' || spec.type === 'enum') {
    const options = spec.type === 'bool' ? ['true', 'false'] : spec.values;
    return h('select', common, options.map((o) => h('option', { value: o, selected: String(shown) === o }, o)));
  }
  if (spec.type === 'object') return h('textarea', { ...common, rows: 2, value: JSON.stringify(shown ?? {}) });
  const numeric = spec.type === 'int' || spec.type === 'number';
  return h('input', {
    ...common,
    type: numeric ? 'number' : 'text',
    inputmode: numeric ? 'decimal' : undefined,
    step: spec.type === 'int' ? 1 : spec.type === 'number' ? 'any' : undefined,
    min: spec.min,
    max: spec.max,
    value: shown === undefined || shown === null ? '' : String(shown),
  });
}

function hint(spec, current) {
  const range = spec.type === 'int' || spec.type === 'number' ? ` (${spec.min} to ${spec.max})` : spec.maxLength ? ` (at most ${spec.maxLength} bytes)` : '';
  const now = current === undefined ? 'not reported' : JSON.stringify(current);
  return `${spec.description}${range}; reported: ${now}`;
}

/** A form for spot `serial`; `config()` gives the config as last reported; `sent()` runs after a command is queued. */
export function configForm(serial, { config, sent }) {
  const rows = h('div', { class: 'cfg-rows' });
  const result = h('p', { id: 'config-result', class: 'result', role: 'status' });
  const picker = h('select', { id: 'config-key', 'aria-label': 'key to change' }, h('option', { value: '' }, 'loading keys…'));
  const submit = h('button', { type: 'submit', id: 'config-send' }, 'Send config update');
  const form = h('form', { id: 'config-form', novalidate: true }, h('label', { for: 'config-key' }, 'Change '), picker, rows, submit, result);
  let specs = new Map();

  loadSchema().then(
    (keys) => {
      specs = new Map(keys.map((k) => [k.name, k]));
      fill(picker, h('option', { value: '' }, 'a key…'), keys.map((k) => h('option', { value: k.name }, k.name)));
    },
    (err) => show('bad', String(err.message ?? err)),
  );

  picker.addEventListener('change', () => {
    const spec = specs.get(picker.value);
    picker.value = '';
    if (!spec || rows.querySelector(`[data-key="${spec.name}"]`)) return;
    const current = (config() ?? {})[spec.name];
    rows.append(
      h(
        'div',
        { class: 'cfg-row', dataset: { key: spec.name } },
        h('label', { for: `cfg-${spec.name}` }, spec.name),
        input(spec, current),
        h('button', { type: 'button', class: 'remove', 'aria-label': `do not change ${spec.name}`, onclick: (e) => e.target.closest('.cfg-row').remove() }, '×'),
        h('small', {}, hint(spec, current)),
      ),
    );
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const data = {};
    const errors = [];
    for (const row of rows.querySelectorAll('.cfg-row')) {
      const spec = specs.get(row.dataset.key);
      const parsed = parseValue(spec, row.querySelector('[name]').value);
      if (parsed.error) errors.push(parsed.error);
      else data[spec.name] = parsed.value;
    }
    if (rows.children.length === 0) errors.push('choose at least one key to change');
    if (errors.length > 0) return show('bad', `Not sent: ${errors.join('; ')}`);
    submit.disabled = true;
    try {
      const { status, body } = await api(`/api/spots/${serial}/commands`, { body: { resource: 'config', action: 'update', data } });
      if (status === 202) {
        show('ok', `Queued as command ${body.id}: the spot gets it at the end of its next post and reports it back as a config update.`);
        fill(rows);
        sent();
      } else {
        show('bad', `Refused (${status}): ${body.reason ?? JSON.stringify(body)}`);
      }
    } catch (err) {
      show('bad', `Not sent: ${err.message}`);
    } finally {
      submit.disabled = false;
    }
  });

  function show(state, text) {
    result.dataset.state = state;
    result.textContent = text;
  }
  return form;
}
