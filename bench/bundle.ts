import { mkdir, mkdtemp, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import JSZip from 'jszip';
import { parse } from 'yaml';
import { PROJECT_ROOT } from './project-root.ts';

export interface Bundle {
  file: string;
  bytes: number;
  zippedBytes: number;
}

/** The esbuild settings of serverless.yml (custom.esbuild), so both sides are built alike. */
async function serverlessEsbuildOptions(): Promise<Record<string, unknown>> {
  const yml = parse(await readFile(join(PROJECT_ROOT, 'serverless.yml'), 'utf8'));
  const {
    packager: _packager,
    exclude,
    outputFileExtension: _ext,
    outputWorkFolder: _work,
    ...options
  } = yml.custom.esbuild;
  return { ...options, external: exclude };
}

export async function bundle(entry: string, name: string): Promise<Bundle> {
  // Inside the project, so the AWS SDK left out of the bundle resolves as the Lambda runtime provides it.
  await mkdir(join(PROJECT_ROOT, 'bench/out'), { recursive: true });
  const outdir = await mkdtemp(join(PROJECT_ROOT, 'bench/out', `${name}-`));
  const file = join(outdir, `${name}.mjs`);
  await build({
    ...(await serverlessEsbuildOptions()),
    entryPoints: [join(PROJECT_ROOT, entry)],
    outfile: file,
    logLevel: 'silent',
  });
  const zip = new JSZip();
  zip.file(`${name}.mjs`, await readFile(file));
  zip.file(`${name}.mjs.map`, await readFile(`${file}.map`));
  const zipped = await zip.generateAsync({
    type: 'nodebuffer',
    compression: 'DEFLATE',
    compressionOptions: { level: 9 },
  });
  return { file, bytes: (await stat(file)).size, zippedBytes: zipped.length };
}
