#!/usr/bin/env node
// npm's bin entry must be JavaScript; Node 24 runs the TypeScript CLI natively (type stripping).
import './main.ts';
