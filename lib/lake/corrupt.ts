/** A lake object that is not gzip JSON Lines (truncated, overwritten, garbled): it names its key. */
export class CorruptObject extends Error {
  override readonly name = 'CorruptObject';
  readonly key: string;
  constructor(key: string, cause: unknown) {
    super(`lake object ${key} is corrupt: ${(cause as Error).message}`, { cause });
    this.key = key;
  }
}
