#!/usr/bin/env node
// npm's bin entry must be JavaScript; Node 24 runs the TypeScript CLI natively (type stripping).
// stdout carries only results: Powertools logs go through the global console (dev mode), which is
// pointed at stderr, and metrics are off (there is no CloudWatch to read them).
import { Console } from 'node:console';

process.env.POWERTOOLS_DEV ??= 'true';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
globalThis.console = new Console({ stdout: process.stderr, stderr: process.stderr });
await import('./main.ts');
