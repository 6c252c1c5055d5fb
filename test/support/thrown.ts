import { expect } from 'vitest';

/** Runs `run`, which must throw an instance of `kind`, and returns what it threw. */
export function thrownAs<E>(kind: abstract new (...args: never[]) => E, run: () => unknown): E {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(kind);
    return error as E;
  }
  throw new Error(`expected ${kind.name}, nothing was thrown`);
}
