// Each window may call exactly the commands its code calls (issue 6): the permissions its Tauri
// capabilities grant (src-tauri/capabilities/*.json) are worked out from the code each window
// loads — its root component and everything that imports, followed file by file — and the Backend
// methods that code calls, mapped to commands through lib/backend/tauri.ts. A command granted and
// never called, or called and not granted, fails here rather than in a window.

import { describe, expect, it } from 'vitest';

/** Every source file of the UI, as text, by its path from here ('./lib/inbox.svelte.ts'). */
const SOURCES = import.meta.glob(['./**/*.ts', './**/*.svelte', '!./**/*.test.ts'], {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;
const CAPABILITY_FILES = import.meta.glob('../../src-tauri/capabilities/*.json', { import: 'default', eager: true }) as Record<
  string,
  { windows: string[]; permissions: string[] }
>;

/** The root component main.ts mounts for each window label. */
const ROOTS: Record<string, string> = { inbox: './App.svelte', panel: './Panel.svelte', settings: './Settings.svelte' };

/** `relative` seen from the file `from`, as a key of SOURCES. */
function resolvePath(from: string, relative: string): string {
  const parts = from.split('/').slice(0, -1);
  for (const part of relative.split('/')) {
    if (part === '..') parts.pop();
    else if (part !== '.') parts.push(part);
  }
  return parts.join('/');
}

/** Backend method → the Tauri permissions it uses, read from tauri.ts. */
function commandsOfMethods(): Map<string, string[]> {
  const text = SOURCES['./lib/backend/tauri.ts'];
  const methods = new Map<string, string[]>();
  for (const [, method, body] of text.matchAll(/^ {2}(\w+): \(([^]*?)(?=^ {2}\w+: \(|^};)/gm)) {
    const invoked = [...body.matchAll(/invoke<[^>]*>\('(\w+)'/g)].map(([, command]) => `allow-${command.replaceAll('_', '-')}`);
    const listens = /listen</.test(body) ? ['core:event:allow-listen', 'core:event:allow-unlisten'] : [];
    methods.set(method, [...invoked, ...listens]);
  }
  return methods;
}

/** Every source file `root` loads (relative imports; types-only ones and tests left out). */
function filesOf(windowLabel: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const [statement, target] of SOURCES[file].matchAll(/^\s*import\s[^;]*?from\s+'(\.{1,2}\/[^']+)'/gm)) {
      if (/^\s*import\s+type\s/.test(statement) || target.endsWith('.css')) continue;
      const base = resolvePath(file, target);
      const found = [base, `${base}.ts`, `${base}/index.ts`].find((p) => p in SOURCES);
      if (found) visit(found);
    }
  };
  visit(ROOTS[windowLabel]);
  return seen;
}

/** The permissions `windowLabel`'s code needs. */
function needed(windowLabel: string, methods: Map<string, string[]>): string[] {
  const permissions = new Set<string>();
  for (const file of filesOf(windowLabel)) {
    for (const [, method] of SOURCES[file].matchAll(/backend\.(\w+)\(/g)) {
      const commands = methods.get(method);
      expect(commands, `${file} calls backend.${method}, which tauri.ts does not define`).toBeDefined();
      commands!.forEach((c) => permissions.add(c));
    }
  }
  return [...permissions].sort();
}

/** The permissions the capability files grant `windowLabel`. */
function granted(windowLabel: string): string[] {
  const permissions = new Set<string>();
  for (const capability of Object.values(CAPABILITY_FILES)) {
    if (capability.windows.includes(windowLabel)) capability.permissions.forEach((p) => permissions.add(p));
  }
  return [...permissions].sort();
}

describe("each window's capabilities", () => {
  const methods = commandsOfMethods();

  it('are read from code that maps every backend method', () => {
    expect([...methods.keys()]).toContain('act');
    expect(methods.get('onEvent')).toEqual(['core:event:allow-listen', 'core:event:allow-unlisten']);
    expect(Object.keys(CAPABILITY_FILES).length).toBeGreaterThan(0);
    for (const root of Object.values(ROOTS)) expect(SOURCES['./main.ts']).toContain(`from '${root}'`);
  });

  for (const label of Object.keys(ROOTS)) {
    it(`grant the ${label} window what its code calls, and nothing else`, () => {
      expect(granted(label)).toEqual(needed(label, methods));
    });
  }
});
