/**
 * The README's configuration table is checked against the settings table (src/config/settings.ts):
 * every env variable the gateway reads has a row, no row names one it does not read, and each row's
 * default cell says the table's default.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { ENV_NAMES, SETTINGS, type SettingName } from '../../src/config/index.js';
import { ROOT } from '../helpers/config.js';

interface Row {
  names: string[];
  defaults: Map<string, string>;
}

/** The rows of the table under "## Configuration": the env names of the first cell, the default cell per name. */
function readmeConfigRows(readme: string): Row[] {
  const section = readme.split(/^## Configuration$/m)[1]?.split(/^#{2,3} /m)[0] ?? '';
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const cells = line
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim());
      const names = [...(cells[0] ?? '').matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!);
      const cell = cells.at(-1) ?? '';
      // `A` / `B` with `x` / `y`: each name its own part; otherwise the whole cell for each.
      const parts = cell.split(' / ');
      const byName = parts.length === names.length && names.length > 1;
      return { names, defaults: new Map(names.map((name, i) => [name, byName ? parts[i]! : cell])) };
    });
}

const rows = readmeConfigRows(readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
const documented = new Map(rows.flatMap((row) => [...row.defaults]));

/** What the README's default cell must say for a setting. */
function expectedDefault(name: SettingName): string {
  const { default: text, defaultDoc } = SETTINGS[name];
  return text !== undefined ? `\`${text}\`` : defaultDoc!;
}

describe("README's configuration table", () => {
  it('is found and names variables (so the checks below cannot pass on an empty table)', () => {
    expect(rows.length).toBeGreaterThan(20);
    for (const row of rows) expect(row.names.length, JSON.stringify(row)).toBeGreaterThan(0);
  });

  it('has a row for every env variable the gateway reads, and none for one it does not', () => {
    expect(ENV_NAMES.filter((name) => !documented.has(name))).toEqual([]);
    expect([...documented.keys()].filter((name) => !(ENV_NAMES as string[]).includes(name))).toEqual([]);
    const all = rows.flatMap((row) => row.names);
    expect(all.length, 'each variable in one row').toBe(new Set(all).size);
  });

  it.each(ENV_NAMES)('%s: the default cell says the default', (name) => {
    expect(documented.get(name)).toContain(expectedDefault(name));
  });
});
