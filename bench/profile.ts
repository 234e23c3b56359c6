/**
 * Self time of a V8 .cpuprofile (written by `node --cpu-prof`), grouped by package or file, per request.
 *
 * Grouping: a frame inside node_modules counts for its package (`pino`, `@scope/name`); a file of
 * this repository for its path (`src/proxy/forward.ts`); a Node internal for its module
 * (`node:_http_outgoing`). A native frame (no script: a C++ binding or V8 builtin) counts for the
 * nearest caller that has one, so `writev` under pino is pino's time. `(garbage collector)` and
 * `(program)` are their own groups; `(idle)` is not CPU time and is left out.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT } from './knobs.js';

interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  group: string;
  /** Self time in the window, in µs. */
  selfUs: number;
  usPerRequest: number;
  percent: number;
}

export interface ProfileSummary {
  file: string;
  /** µs of samples inside the window (idle excluded). */
  totalUs: number;
  totalUsPerRequest: number;
  requests: number;
  /** Whether samples were limited to the load window (false: the whole profile, start-up included). */
  windowed: boolean;
  /** Self time by package / file. */
  top: ProfileEntry[];
  /** Node internals (node:*) and native code counted for the package or repository file that called them. */
  topByCaller: ProfileEntry[];
}

export function groupOfUrl(url: string): string {
  const clean = url.replace(/[?#].*$/, '');
  if (clean.startsWith('node:')) return clean;
  const file = clean.startsWith('file://') ? decodeURIComponent(new URL(clean).pathname) : clean;
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = file.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1] ?? ''}` : (parts[0] ?? file);
  }
  if (path.isAbsolute(file)) return path.relative(ROOT, file);
  return file;
}

const SPECIAL: Record<string, string | null> = {
  '(garbage collector)': '(garbage collector)',
  '(program)': '(program)',
  '(idle)': null,
  '(root)': null,
};

/** A package or a file of this repository (not a Node internal, native code or a special entry). */
const isOwnCode = (group: string | null): group is string =>
  group !== null && !group.startsWith('node:') && !group.startsWith('(');

interface Groups {
  /** Node id -> group of its own frame (native frames: their nearest caller with a script). */
  self: Map<number, string | null>;
  /** Node id -> the same, except that Node internals count for the package or file that called them. */
  caller: Map<number, string | null>;
}

function groupsById(profile: CpuProfile): Groups {
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, string | null>();
  const caller = new Map<number, string | null>();
  const resolveSelf = (id: number): string | null => {
    const known = self.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id);
    let group: string | null;
    if (!node) group = null;
    else if (Object.hasOwn(SPECIAL, node.callFrame.functionName) && !node.callFrame.url) {
      group = SPECIAL[node.callFrame.functionName] ?? null;
    } else if (node.callFrame.url) group = groupOfUrl(node.callFrame.url);
    else {
      const up = parent.get(id);
      group = up === undefined ? '(native)' : (resolveSelf(up) ?? '(native)');
    }
    self.set(id, group);
    return group;
  };
  const resolveCaller = (id: number): string | null => {
    const known = caller.get(id);
    if (known !== undefined) return known;
    const own = resolveSelf(id);
    let group = own;
    if (own !== null && (own.startsWith('node:') || own === '(native)')) {
      const up = parent.get(id);
      const above = up === undefined ? null : resolveCaller(up);
      if (isOwnCode(above)) group = above;
    }
    caller.set(id, group);
    return group;
  };
  for (const node of profile.nodes) resolveCaller(node.id);
  return { self, caller };
}

function rank(times: Map<string, number>, totalUs: number, requests: number, topN: number): ProfileEntry[] {
  const per = Math.max(requests, 1);
  return [...times.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, topN)
    .map(([group, selfUs]) => ({
      group,
      selfUs,
      usPerRequest: selfUs / per,
      percent: totalUs > 0 ? (100 * selfUs) / totalUs : 0,
    }));
}

/**
 * Summarises `file`. Samples are kept when their timestamp lies in [fromUs, toUs] (the monotonic
 * clock in µs, as `process.hrtime.bigint() / 1000n` reads it in any process on the machine).
 */
export async function summarizeProfile(
  file: string,
  requests: number,
  window: { fromUs: number; toUs: number } | undefined,
  topN = 25,
): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const groups = groupsById(profile);
  const self = new Map<string, number>();
  const byCaller = new Map<string, number>();
  let t = profile.startTime;
  let inWindow = 0;
  let totalUs = 0;
  const n = profile.samples.length;
  for (let i = 0; i < n; i++) {
    t += profile.timeDeltas[i] ?? 0;
    // A sample stands for the time until the next one.
    const duration = profile.timeDeltas[i + 1] ?? 0;
    if (window && (t < window.fromUs || t > window.toUs)) continue;
    inWindow += 1;
    const id = profile.samples[i]!;
    const group = groups.self.get(id);
    if (group === null || group === undefined) continue;
    totalUs += duration;
    self.set(group, (self.get(group) ?? 0) + duration);
    const callerGroup = groups.caller.get(id) ?? group;
    byCaller.set(callerGroup, (byCaller.get(callerGroup) ?? 0) + duration);
  }
  if (window && inWindow === 0) return summarizeProfile(file, requests, undefined, topN);
  return {
    file,
    totalUs,
    totalUsPerRequest: totalUs / Math.max(requests, 1),
    requests,
    windowed: window !== undefined,
    top: rank(self, totalUs, requests, topN),
    topByCaller: rank(byCaller, totalUs, requests, topN),
  };
}

function entriesTable(entries: ProfileEntry[]): string[] {
  return [
    '| # | package / file | µs/req | % |',
    '| ---: | --- | ---: | ---: |',
    ...entries.map(
      (e, i) => `| ${i + 1} | ${e.group} | ${e.usPerRequest.toFixed(1)} | ${e.percent.toFixed(1)} |`,
    ),
  ];
}

export function profileTable(summary: ProfileSummary): string {
  return [
    `CPU profile of the gateway: ${summary.requests} requests, ${summary.totalUsPerRequest.toFixed(0)} µs of CPU samples per request` +
      (summary.windowed ? ' (load window only)' : ' (whole profile, start-up included)'),
    '',
    'Self time by package / file (native code counted for its caller):',
    '',
    ...entriesTable(summary.top),
    '',
    'The same with Node internals counted for the package or file that called them (pino for its fs writes, …):',
    '',
    ...entriesTable(summary.topByCaller),
  ].join('\n');
}
