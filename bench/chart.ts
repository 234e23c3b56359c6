/**
 * bench/results/chart.svg: three horizontal bar panels (req/s, p99 latency, CPU per request), one bar
 * per variant, the gateway highlighted. Hand-written SVG, no dependency, readable on light and dark
 * backgrounds (it paints its own white card).
 */
import { writeFile } from 'node:fs/promises';
import { escapeHtml as esc } from '../src/http/pages.js';
import type { BenchResults, VariantResult } from './results.js';

const WIDTH = 760;
const LABEL_W = 270;
const BAR_MAX = WIDTH - LABEL_W - 110;
const BAR_H = 20;
const BAR_GAP = 8;
const PANEL_HEAD = 30;
const PANEL_GAP = 18;
const TOP = 58;
const COLORS: Record<string, string> = {
  upstream: '#9aa5b1',
  bare: '#5b8def',
  'hand-built': '#f0a04b',
  gateway: '#2f9e44',
};

interface Panel {
  title: string;
  value: (v: VariantResult) => number;
  format: (n: number) => string;
}

const PANELS: Panel[] = [
  {
    title: 'Requests per second (higher is better)',
    value: (v) => v.median.rps,
    format: (n) => Math.round(n).toLocaleString('en-US'),
  },
  { title: 'p99 latency, ms (lower is better)', value: (v) => v.median.p99Ms, format: (n) => n.toFixed(1) },
  {
    title: 'CPU of the variant’s own process, µs per request (lower is better)',
    value: (v) => v.median.cpuUsPerRequest,
    format: (n) => Math.round(n).toLocaleString('en-US'),
  },
];

/**
 * The panel's full-width value: the largest bar, except that the upstream (a), when it is far beyond
 * every proxy, is cut so the proxies stay comparable.
 */
function scaleMax(variants: VariantResult[], values: number[]): number {
  const proxies = values.filter((_, i) => variants[i]!.id !== 'upstream');
  const all = Math.max(...values, 1e-9);
  if (proxies.length === 0) return all;
  const proxyMax = Math.max(...proxies, 1e-9);
  return all > 1.6 * proxyMax ? proxyMax * 1.15 : all;
}

export function renderChart(results: BenchResults): string {
  const variants = results.variants;
  const panelH = PANEL_HEAD + variants.length * (BAR_H + BAR_GAP);
  const height = TOP + PANELS.length * (panelH + PANEL_GAP) + 10;
  const s = results.settings;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="-apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="13">`,
    `<rect width="${WIDTH}" height="${height}" rx="8" fill="#ffffff" stroke="#d0d7de"/>`,
    `<text x="16" y="26" font-size="16" font-weight="600" fill="#1f2328">GET /api through each proxy (~300 B JSON upstream)</text>`,
    `<text x="16" y="45" font-size="12" fill="#57606a">${esc(
      `${s.loadGenerator}, ${s.connections} connections, median of ${s.rounds} × ${s.durationSec} s interleaved rounds; ` +
        `Node ${results.machine.node}, ${results.machine.cpus} CPUs; ${results.startedAt.slice(0, 10)}`,
    )}</text>`,
  ];
  PANELS.forEach((panel, p) => {
    const y0 = TOP + p * (panelH + PANEL_GAP);
    parts.push(`<text x="16" y="${y0 + 18}" font-weight="600" fill="#1f2328">${esc(panel.title)}</text>`);
    const values = variants.map(panel.value).map((n) => (Number.isFinite(n) ? n : 0));
    const max = scaleMax(variants, values);
    variants.forEach((v, i) => {
      const y = y0 + PANEL_HEAD + i * (BAR_H + BAR_GAP);
      const clipped = values[i]! > max;
      const w = clipped ? BAR_MAX : Math.max(1, (values[i]! / max) * BAR_MAX);
      const bold = v.id === 'gateway' ? ' font-weight="600"' : '';
      parts.push(
        `<text x="16" y="${y + 15}" fill="#1f2328"${bold}>${esc(v.label)}</text>`,
        `<rect x="${LABEL_W}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" rx="3" fill="${COLORS[v.id] ?? '#888'}"/>`,
        `<text x="${(LABEL_W + w + 6).toFixed(1)}" y="${y + 15}" fill="#1f2328"${bold}>${esc(panel.format(values[i]!))}</text>`,
      );
      // A bar too long for the scale: cut, with a break mark (the value is printed beside it).
      if (clipped) {
        const x = LABEL_W + BAR_MAX - 40;
        parts.push(
          `<path d="M${x} ${y + BAR_H + 2} l8 ${-BAR_H - 4} M${x + 7} ${y + BAR_H + 2} l8 ${-BAR_H - 4}" stroke="#ffffff" stroke-width="3"/>`,
        );
      }
    });
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

export async function writeChart(file: string, results: BenchResults): Promise<void> {
  await writeFile(file, renderChart(results));
}
