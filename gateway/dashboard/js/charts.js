// Small live charts: the last two minutes of a figure as an SVG sparkline.
import { h, num } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';
const KEEP = 120;

/** Named series of samples (one per status snapshot), kept across page changes. */
export class History {
  constructor() {
    this.series = new Map();
  }

  add(name, value) {
    let s = this.series.get(name);
    if (!s) this.series.set(name, (s = []));
    s.push(typeof value === 'number' && Number.isFinite(value) ? value : null);
    if (s.length > KEEP) s.shift();
  }

  get(name) {
    return this.series.get(name) ?? [];
  }
}

/** A labelled sparkline with the latest value; values null are gaps. */
export function sparkline(label, values, unit = '') {
  const width = 240;
  const height = 40;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `${label}, the last ${values.length} s`);
  const present = values.filter((v) => v !== null);
  const max = Math.max(1, ...present);
  const step = width / (KEEP - 1);
  const offset = KEEP - values.length;
  let d = '';
  let pen = false;
  values.forEach((v, i) => {
    if (v === null) {
      pen = false;
      return;
    }
    const x = (offset + i) * step;
    const y = height - 2 - (v / max) * (height - 4);
    d += `${pen ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`;
    pen = true;
  });
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', d);
  svg.append(path);
  const last = present.length > 0 ? present[present.length - 1] : null;
  return h('figure', { class: 'chart' }, h('figcaption', {}, h('span', {}, label), h('b', {}, last === null ? '–' : `${num(last)}${unit}`), h('small', {}, `max ${num(max)}`)), svg);
}
