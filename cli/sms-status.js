#!/usr/bin/env node
// npm's bin entry must be JavaScript; Node 24 runs the TypeScript CLI natively (type stripping).
// stdout carries only results: nothing on the CLI's path logs or emits metrics (those are the
// Lambdas' adapters), and errors go to stderr.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  // An older Node cannot load main.ts (ERR_UNKNOWN_FILE_EXTENSION and a loader trace): say what to do.
  process.stderr.write(
    `sms-status needs Node 24 or later (this is Node ${major}): run it with npx inside the repository\n`,
  );
  process.exit(1);
}
await import('./main.ts');
