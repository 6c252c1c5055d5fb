// The shape of the production code, checked from its source: the import graph of lib/, functions/,
// cli/ and local/ (no cycles, the layers point one way, the Tencent client and the pacing know nothing
// of each other) and the length of its functions. Parsed with the TypeScript compiler API, so no new
// dependency; `#lib/*` resolves as package.json's "imports" says ("./lib/*").
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SCANNED = ['lib', 'functions', 'cli', 'local', 'bench', 'scripts'] as const;
const MAX_FUNCTION_LINES = 60;

/** The layers table of docs/ARCHITECTURE.md: each row's name, file prefixes and the layers it may import. */
const architecture = readFileSync(join(ROOT, 'docs/ARCHITECTURE.md'), 'utf8');
const LAYERS = tableRows(architecture.slice(architecture.indexOf('| layer | files | may import |'))).map((cells) => {
  const ticked = (cell = ''): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
  return { name: (cells[0] ?? '').trim(), paths: ticked(cells[1]), mayImport: ticked(cells[2]) };
});

/** A markdown table's body rows, as cells: from its header to its first line that is not a row. */
function tableRows(text: string): string[][] {
  const lines = text.split('\n');
  const end = lines.findIndex((line) => !line.startsWith('|'));
  return lines.slice(2, end === -1 ? undefined : end).map((line) => line.split('|').slice(1, -1));
}

function layerOf(file: string): (typeof LAYERS)[number] | undefined {
  return LAYERS.find((layer) =>
    layer.paths.some((path) => (path.endsWith('/') ? file.startsWith(path) : file === path)),
  );
}

/**
 * Functions allowed past MAX_FUNCTION_LINES, each with the reason. Keyed by `file name` as the
 * failure lists them (without the line, which moves). Empty on purpose: add an entry only with a reason.
 */
const LONG_FUNCTION_EXEMPTIONS: ReadonlyArray<{ readonly fn: string; readonly reason: string }> = [];

/** Repository-relative, '/'-separated. */
const rel = (path: string): string => relative(ROOT, path).split(sep).join('/');

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

interface Edge {
  readonly from: string;
  /** Repository-relative path of the imported file, or undefined for a package / node: builtin. */
  readonly to: string | undefined;
  readonly specifier: string;
  readonly line: number;
  /** `import type`, `export type` or an `import('…')` type: erased, nothing loads at run time. */
  readonly typeOnly: boolean;
  /** A relative or #lib specifier that names no file. */
  readonly unresolved: boolean;
}

function resolveSpecifier(fromFile: string, specifier: string): { to: string | undefined; unresolved: boolean } {
  let base: string;
  if (specifier.startsWith('#lib/')) base = join(ROOT, 'lib', specifier.slice('#lib/'.length));
  else if (specifier.startsWith('./') || specifier.startsWith('../')) base = resolve(dirname(fromFile), specifier);
  else return { to: undefined, unresolved: false };
  const candidates = [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')];
  const found = candidates.find((path) => existsSync(path) && statSync(path).isFile());
  return found === undefined ? { to: rel(base), unresolved: true } : { to: rel(found), unresolved: false };
}

interface Parsed {
  readonly file: string;
  readonly source: ts.SourceFile;
}

function parse(path: string): Parsed {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  return { file: rel(path), source };
}

function importsOf({ file, source }: Parsed): Edge[] {
  const edges: Edge[] = [];
  const absolute = join(ROOT, file);
  const add = (literal: ts.Expression, typeOnly: boolean): void => {
    if (!ts.isStringLiteralLike(literal)) return;
    const specifier = literal.text;
    const line = source.getLineAndCharacterOfPosition(literal.getStart(source)).line + 1;
    edges.push({ from: file, specifier, line, typeOnly, ...resolveSpecifier(absolute, specifier) });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      add(node.moduleSpecifier, node.importClause?.isTypeOnly ?? false);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined) {
      add(node.moduleSpecifier, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0]) {
      add(node.arguments[0], false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal as ts.Expression, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

const parsed = SCANNED.flatMap((dir) => tsFiles(join(ROOT, dir)))
  .sort()
  .map(parse);
const files = new Set(parsed.map((p) => p.file));
const edges = parsed.flatMap(importsOf);
const runtimeEdges = edges.filter((edge) => !edge.typeOnly);

const show = (edge: Edge): string =>
  `${edge.from}:${edge.line} imports${edge.typeOnly ? ' type' : ''} '${edge.specifier}'` +
  (edge.to !== undefined && edge.to !== edge.specifier ? ` (${edge.to})` : '');

const under = (path: string | undefined, ...prefixes: string[]): boolean =>
  path !== undefined &&
  prefixes.some((prefix) => (prefix.endsWith('.ts') ? path === prefix : path.startsWith(`${prefix}/`)));

/** Strongly connected components of more than one file (or a file importing itself), by Tarjan. */
function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const connect = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node) ?? []) {
      if (!index.has(target)) {
        connect(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node)!, index.get(target)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component.sort());
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) connect(node);
  return found;
}

/** One concrete loop through `start` inside its component (shortest, by breadth-first search). */
function loopThrough(start: string, component: Set<string>, graph: Map<string, string[]>): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const target of graph.get(node) ?? []) {
      if (!component.has(target)) continue;
      if (target === start) {
        const path = [node];
        while (path[0] !== start) path.unshift(previous.get(path[0]!)!);
        return [...path, start];
      }
      if (!previous.has(target)) {
        previous.set(target, node);
        queue.push(target);
      }
    }
  }
  return [start];
}

describe('import graph of lib/, functions/, cli/, local/', () => {
  it('finds the source and resolves every relative and #lib import to a file', () => {
    expect(files.size, 'no .ts files found under lib/, functions/, cli/, local/').toBeGreaterThan(0);
    const unresolved = edges.filter((edge) => edge.unresolved).map(show);
    expect(unresolved, `imports naming no file (the graph below would miss them):\n${unresolved.join('\n')}`).toEqual(
      [],
    );
  });

  it('has no import cycle (runtime imports; import type / export type are erased)', () => {
    const graph = new Map<string, string[]>([...files].map((file) => [file, []]));
    for (const edge of runtimeEdges) {
      if (edge.to !== undefined && files.has(edge.to)) graph.get(edge.from)!.push(edge.to);
    }
    const found = cycles(graph).map((component) => {
      const loop = loopThrough(component[0]!, new Set(component), graph);
      return `cycle among ${component.length} file(s): ${component.join(', ')}\n    e.g. ${loop.join(' → ')}`;
    });
    expect(found.length, `import cycles:\n${found.join('\n')}`).toBe(0);
  });

  it('follows the layers of docs/ARCHITECTURE.md: each file imports only its own layer and those listed', () => {
    const violations = edges
      .filter((edge) => edge.to !== undefined && !edge.unresolved)
      .flatMap((edge) => {
        const from = layerOf(edge.from);
        const to = layerOf(edge.to as string);
        if (!from || !to)
          return [`${show(edge)}: ${!from ? edge.from : edge.to} belongs to no layer of docs/ARCHITECTURE.md`];
        return from.name === to.name || from.mayImport.includes(to.name)
          ? []
          : [`${show(edge)}: ${from.name} may not import ${to.name}`];
      });
    expect(violations, `imports against the layers:\n${violations.join('\n')}`).toEqual([]);
  });

  it('use-cases-apart: only lib/export imports another use case (lib/status)', () => {
    const cases = ['lib/export', 'lib/status', 'lib/push', 'lib/report'];
    const crossing = edges.filter((edge) => {
      const from = cases.find((c) => under(edge.from, c));
      const to = cases.find((c) => under(edge.to, c));
      return from && to && from !== to && !(from === 'lib/export' && to === 'lib/status');
    });
    expect(crossing.map(show), `use cases importing each other:\n${crossing.map(show).join('\n')}`).toEqual([]);
  });

  it('tencent-pace-apart: lib/tencent and lib/pace know nothing of each other', () => {
    const crossing = edges
      .filter(
        (edge) =>
          (under(edge.from, 'lib/tencent') && under(edge.to, 'lib/pace')) ||
          (under(edge.from, 'lib/pace') && under(edge.to, 'lib/tencent')),
      )
      .map(show);
    expect(crossing, `lib/tencent and lib/pace must not import each other:\n${crossing.join('\n')}`).toEqual([]);
  });
});

describe('the text of the production code', () => {
  const production = parsed.filter((p) => !p.file.startsWith('local/') && !p.file.startsWith('bench/'));

  it('one-home-for-keys: every lake key prefix is spelled in lib/lake/layout.ts alone', () => {
    const prefixes = ['statuses/', '_state/', '_inbox/', '_quarantine/', '_runs/', '_lake/', '_outbox/'];
    const found: string[] = [];
    for (const { file, source } of production) {
      const visit = (node: ts.Node): void => {
        if (
          ts.isStringLiteralLike(node) ||
          ts.isTemplateHead(node) ||
          ts.isTemplateMiddle(node) ||
          ts.isTemplateTail(node)
        ) {
          const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
          for (const prefix of prefixes)
            if (node.text.includes(prefix)) found.push(`${file}:${line} spells '${prefix}'`);
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
    const elsewhere = found.filter((f) => !f.startsWith('lib/lake/layout.ts:'));
    expect(elsewhere, `lake keys built outside lib/lake/layout.ts:\n${elsewhere.join('\n')}`).toEqual([]);
    expect(found.length).toBeGreaterThan(0);
  });

  it('no-env-in-lib: lib/ never reads process.env', () => {
    const reads = production
      .filter((p) => p.file.startsWith('lib/') && /\bprocess\.env\b/.test(p.source.text))
      .map((p) => p.file);
    expect(reads).toEqual([]);
  });
});

describe('docs/ARCHITECTURE.md', () => {
  it('states exactly the rules this test checks, and a layer for every scanned file', () => {
    const stated = [...architecture.matchAll(/^- \*\*([a-z-]+)\*\*:/gm)].map((m) => m[1]);
    expect(stated.sort()).toEqual([
      'no-cycle',
      'no-env-in-lib',
      'one-home-for-keys',
      'short-functions',
      'tencent-pace-apart',
      'use-cases-apart',
    ]);
    expect(LAYERS.map((l) => l.name)).toEqual(
      expect.arrayContaining(['functions', 'cli', 'use cases', 'lake', 'base', 'dev']),
    );
    const homeless = [...files].filter((file) => !layerOf(file));
    expect(homeless, `files of no layer:\n${homeless.join('\n')}`).toEqual([]);
  });
});

interface FunctionSpan {
  readonly file: string;
  readonly line: number;
  readonly name: string;
  readonly lines: number;
}

function nameOf(node: ts.Node): string | undefined {
  const name = (node as { name?: ts.Node }).name;
  if (name === undefined) return undefined;
  return ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name)
    ? name.text
    : name.getText();
}

function className(node: ts.Node): string {
  const owner = node.parent;
  if (owner !== undefined && (ts.isClassDeclaration(owner) || ts.isClassExpression(owner)))
    return `${owner.name?.text ?? '<class>'}.`;
  return '';
}

/** A name for the failure list: the declared name, else what the function is assigned or passed to. */
function describeFunction(node: ts.FunctionLikeDeclaration): string {
  if (ts.isConstructorDeclaration(node)) return `${className(node)}constructor`;
  if (ts.isMethodDeclaration(node) || ts.isGetAccessorDeclaration(node) || ts.isSetAccessorDeclaration(node)) {
    const kind = ts.isGetAccessorDeclaration(node) ? 'get ' : ts.isSetAccessorDeclaration(node) ? 'set ' : '';
    return `${kind}${className(node)}${nameOf(node)}`;
  }
  const own = nameOf(node);
  if (own !== undefined) return own;
  const kind = ts.isArrowFunction(node) ? 'arrow' : 'function';
  let parent = node.parent;
  while (
    parent !== undefined &&
    (ts.isParenthesizedExpression(parent) || ts.isAsExpression(parent) || ts.isSatisfiesExpression(parent))
  )
    parent = parent.parent;
  if (parent === undefined) return `<${kind}>`;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) {
    return `${ts.isPropertyDeclaration(parent) ? className(parent) : ''}${nameOf(parent)}`;
  }
  if (ts.isCallExpression(parent) || ts.isNewExpression(parent))
    return `<${kind} passed to ${parent.expression.getText().slice(0, 40)}>`;
  return `<${kind}>`;
}

function functionSpans({ file, source }: Parsed): FunctionSpan[] {
  const spans: FunctionSpan[] = [];
  const visit = (node: ts.Node): void => {
    const measured =
      ts.isFunctionDeclaration(node) ||
      ts.isMethodDeclaration(node) ||
      ts.isConstructorDeclaration(node) ||
      ts.isGetAccessorDeclaration(node) ||
      ts.isSetAccessorDeclaration(node) ||
      ts.isFunctionExpression(node) ||
      ts.isArrowFunction(node);
    if (measured && node.body !== undefined && ts.isBlock(node.body)) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      spans.push({ file, line: start + 1, name: describeFunction(node), lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return spans;
}

describe('function length', () => {
  const spans = parsed.flatMap(functionSpans);
  const key = (span: FunctionSpan): string => `${span.file} ${span.name}`;
  const exempt = new Map(LONG_FUNCTION_EXEMPTIONS.map((entry) => [entry.fn, entry.reason]));

  it(`keeps every production function at ${MAX_FUNCTION_LINES} lines or fewer`, () => {
    expect(spans.length, 'no functions found: is the parser looking in the right place?').toBeGreaterThan(0);
    const long = spans
      .filter((span) => span.lines > MAX_FUNCTION_LINES && !exempt.has(key(span)))
      .sort((a, b) => b.lines - a.lines)
      .map((span) => `${span.file}:${span.line} ${span.name} (${span.lines} lines)`);
    expect(
      long,
      `functions longer than ${MAX_FUNCTION_LINES} lines (split them, or exempt one in LONG_FUNCTION_EXEMPTIONS with a reason):\n${long.join('\n')}`,
    ).toEqual([]);
  });

  it('lists no stale exemption', () => {
    const stale = [...exempt.keys()].filter(
      (fn) => !spans.some((span) => key(span) === fn && span.lines > MAX_FUNCTION_LINES),
    );
    expect(
      stale,
      `exemptions naming no function over ${MAX_FUNCTION_LINES} lines (remove them):\n${stale.join('\n')}`,
    ).toEqual([]);
  });
});
