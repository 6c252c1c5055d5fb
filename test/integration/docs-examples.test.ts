/**
 * Every shell example in README.md and docs/*.md runs as written, against a local stack of its own (as
 * `npm start` runs it), with the documented ports (3000, 3002, 4569, 9000) and `<printed key>` replaced
 * by this stack's. A shell example is a fenced block tagged sh, bash or shell. Right before its block:
 * - `<!-- not locally: why -->` skips it: it needs an AWS account (a deploy, real AWS);
 * - `<!-- not in docs-examples: why -->` skips it too: it cannot run inside this test (the registry,
 *   the test suite itself), and the reason says what runs it instead;
 * - `<!-- foreground -->` says it is a server that runs until stopped: it is started on fresh ports, must
 *   accept connections on each of them, and is stopped.
 * An untagged block that reads like a command fails: tag it sh (or text, for a synopsis).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../local/offline.ts';
import { startStack, type Stack } from '../../local/stack.ts';
import { freePorts } from '../support/ports.ts';

interface Example {
  file: string;
  line: number;
  lang: string;
  code: string;
  marker?: { kind: Marker; reason: string };
}

type Marker = 'not locally' | 'not in docs-examples' | 'foreground';
const FENCE = /^```(\S*)\s*$/;
const MARKER = /^<!--\s*(not locally|not in docs-examples|foreground)\s*:?\s*(.*?)\s*-->$/;
const SHELL = new Set(['sh', 'bash', 'shell']);
/** The first word of a line that is a command someone would paste into a shell. */
const COMMANDISH = /^(npm|npx|node|curl|aws|echo|cat|jq|sms-status|[A-Z][A-Z0-9_]*=\S*)(\s|$)/;

function examplesOf(file: string, markdown: string): Example[] {
  const lines = markdown.split('\n');
  const out: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] as string);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    let before = i - 1;
    while (before >= 0 && (lines[before] as string).trim() === '') before--;
    const marked = before >= 0 ? MARKER.exec((lines[before] as string).trim()) : null;
    out.push({
      file,
      line: i + 1,
      lang: open[1] ?? '',
      code: lines.slice(i + 1, end).join('\n'),
      ...(marked && { marker: { kind: marked[1] as Marker, reason: marked[2] ?? '' } }),
    });
    i = end;
  }
  return out;
}

const files = [
  'README.md',
  ...(await readdir(join(PROJECT_ROOT, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`),
];
const blocks = (
  await Promise.all(files.map(async (file) => examplesOf(file, await readFile(join(PROJECT_ROOT, file), 'utf8'))))
).flat();
const shell = blocks.filter((b) => SHELL.has(b.lang));
const runnable = shell.filter((b) => !b.marker);
const foreground = shell.filter((b) => b.marker?.kind === 'foreground');
const notLocally = shell.filter((b) => b.marker?.kind === 'not locally');
const notHere = shell.filter((b) => b.marker?.kind === 'not in docs-examples');
const name = (b: Example): string => `${b.file}:${b.line} ${b.code.split('\n')[0]?.slice(0, 70)}`;

/** The documented defaults, as they appear in the examples. */
const DEFAULT_PORTS = { http: 3000, lambda: 3002, s3: 4569, twin: 9000 } as const;

function substitute(
  code: string,
  ports: Record<keyof typeof DEFAULT_PORTS, number>,
  printed: { apiKey: string; callbackUrl: string },
): string {
  let out = code.replaceAll('<printed key>', printed.apiKey).replaceAll('<printed callback URL>', printed.callbackUrl);
  for (const [part, port] of Object.entries(DEFAULT_PORTS)) {
    out = out.replace(
      new RegExp(`(127\\.0\\.0\\.1:|--port )${port}\\b`, 'g'),
      `$1${ports[part as keyof typeof DEFAULT_PORTS]}`,
    );
  }
  return out;
}

/** Files an example writes in the repository (`> x.json`, `… x.json && cat x.json`), removed after it. */
function filesNamedIn(code: string): string[] {
  return [...new Set([...code.matchAll(/(?:^|\s)([\w.-]+\.(?:json|txt|csv|out))\b/g)].map((m) => m[1] as string))];
}

/** The environment a reader's shell has: none of the stack's variables, Node 24 first on PATH. */
function readerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${join(PROJECT_ROOT, 'node_modules/.bin')}:${process.env.PATH}`,
  };
  for (const key of Object.keys(env)) {
    if (/^(TENCENT|SMS_|EXPORT_|AWS_|POWERTOOLS_)/.test(key)) delete env[key];
  }
  return env;
}

async function bash(code: string, timeoutMs = 90_000): Promise<{ code: number | null; output: string }> {
  const child = spawn('bash', ['-euo', 'pipefail', '-c', code], {
    cwd: PROJECT_ROOT,
    env: readerEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [exit] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  return { code: exit, output };
}

function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('the documents', () => {
  it('mark every shell example and give every skip a reason', () => {
    expect(runnable.length).toBeGreaterThan(0);
    for (const b of [...notLocally, ...notHere]) expect(b.marker?.reason, name(b)).not.toBe('');
    console.info(
      `docs examples: ${runnable.length} run, ${foreground.length} in the foreground, ${notLocally.length} not locally, ${notHere.length} not in docs-examples`,
    );
  });

  it('tag every block that reads like a command as sh', () => {
    const untagged = blocks.filter((b) => b.lang === '' && COMMANDISH.test(b.code.trim()));
    expect(untagged.map(name)).toEqual([]);
  });
});

describe('shell examples against a local stack', () => {
  let stack: Stack;
  let ports: Record<keyof typeof DEFAULT_PORTS, number>;

  beforeAll(async () => {
    ports = await freePorts('http', 'lambda', 's3', 'twin');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      EXPORT_SCHEDULE_ENABLED: 'false',
      INBOX_SCHEDULE_ENABLED: 'false',
    };
    for (const key of [
      'TENCENT_SMS_ENDPOINT',
      'TENCENTCLOUD_SECRET_ID',
      'TENCENTCLOUD_SECRET_KEY',
      'SMS_SDK_APP_ID',
      'SMS_STATUS_API_KEY',
    ])
      delete env[key];
    stack = await startStack({ ports, env, throttle: true });
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it.each(runnable.map((b) => [name(b), b] as const))('%s', { timeout: 120_000 }, async (_, example) => {
    const written = filesNamedIn(example.code).filter((f) => !existsSync(join(PROJECT_ROOT, f)));
    try {
      const result = await bash(substitute(example.code, ports, stack));
      expect(result.code, result.output).toBe(0);
      // curl -s and `aws lambda invoke` exit 0 on an error answer too: the answer must not be one.
      expect(result.output).not.toMatch(/"FunctionError"|\{"error":\{|"message":"Forbidden"/);
    } finally {
      for (const f of written) await rm(join(PROJECT_ROOT, f), { force: true });
    }
  });

  it.each(foreground.map((b) => [name(b), b] as const))(
    '%s (in the foreground)',
    { timeout: 120_000 },
    async (_, example) => {
      const fresh = await freePorts('http', 'lambda', 's3', 'twin');
      const used = Object.entries(DEFAULT_PORTS).filter(([, port]) => example.code.includes(String(port)));
      expect(used.length, 'a foreground example names the ports it listens on').toBeGreaterThan(0);
      const child = spawn('bash', ['-c', `exec ${substitute(example.code, fresh, { apiKey: '', callbackUrl: '' })}`], {
        cwd: PROJECT_ROOT,
        env: readerEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      const closed = once(child, 'close');
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
      try {
        for (const [part] of used) {
          const port = fresh[part as keyof typeof DEFAULT_PORTS];
          const deadline = Date.now() + 90_000;
          while (!(await accepting(port))) {
            expect(child.exitCode, output).toBeNull();
            expect(Date.now() < deadline, `nothing listens on ${port}:\n${output}`).toBe(true);
            await new Promise((r) => setTimeout(r, 250));
          }
        }
      } finally {
        if (child.exitCode === null) process.kill(-(child.pid as number), 'SIGINT');
        await closed;
      }
    },
  );
});
