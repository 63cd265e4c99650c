import { csrfHeaders } from './auth.js';

// Building DOM without innerHTML (spot data is shown as text, never parsed as markup) and formatting figures.

/** h('td', {class: 'num'}, 'text', childNode, [more]) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'value') el.value = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** A card with a title and its content. */
export function card(title, id, ...children) {
  return h('section', { class: 'card', id }, h('h2', {}, title), ...children);
}

/** Label/value pairs as a definition list. */
export function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(Boolean).map(([label, value, attrs]) => h('div', {}, h('dt', {}, label), h('dd', attrs ?? {}, value))));
}

export function pill(text, state) {
  return h('span', { class: 'pill', 'data-status': state }, text);
}

const nf = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });

export function num(n) {
  return n === null || n === undefined ? '–' : nf.format(n);
}

export function ms(n) {
  if (n === null || n === undefined) return '–';
  if (n < 1000) return `${nf.format(n)} ms`;
  return duration(n);
}

export function duration(n) {
  if (n === null || n === undefined) return '–';
  const s = n / 1000;
  if (s < 60) return `${nf.format(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.round((s % 86400) / 3600)} h`;
}

export function ago(time, now) {
  if (!time) return '–';
  const d = Math.max(0, now - time);
  return d < 1000 ? 'just now' : `${duration(d)} ago`;
}

export function bytes(n) {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${nf.format(n)} ${units[i]}`;
}

export function clock(time) {
  return time ? new Date(time).toLocaleTimeString() : '–';
}

export function stamp(time) {
  return time ? new Date(time).toLocaleString() : '–';
}

/** GET or POST JSON; resolves {status, body} and never throws on an HTTP error status. */
export async function api(path, init = {}) {
  const res = await fetch(path, {
    method: init.body === undefined ? 'GET' : 'POST',
    headers: init.body === undefined ? {} : { 'content-type': 'application/json', ...csrfHeaders() },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: the text itself.
  }
  return { status: res.status, body };
}

/** Replaces an element's content; arrays of children are flattened. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
}
