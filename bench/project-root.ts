import { fileURLToPath } from 'node:url';

/** The repository root, from this file's place in bench/, so the bench runs from any working directory. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
