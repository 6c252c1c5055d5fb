#!/usr/bin/env node
// npm's bin entry must be JavaScript; Node 24 runs the TypeScript CLI natively (type stripping).
// stdout carries only results: nothing on the CLI's path logs or emits metrics (those are the
// Lambdas' adapters), and errors go to stderr.
await import('./main.ts');
