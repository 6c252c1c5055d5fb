import { InvalidInput } from '#lib/errors.ts';

/** Most of a caller's field name quoted back in an error: it is the caller's own text. */
export const MAX_QUOTED_FIELD_LENGTH = 64;

/** Refuses the first key not in `fields`, naming it (an empty key as '(empty)', so the error still names a field). */
export function rejectUnknownFields(record: object, fields: ReadonlySet<string>): void {
  const unknown = Object.keys(record).find((key) => !fields.has(key));
  if (unknown === undefined) return;
  const quoted = unknown === '' ? '(empty)' : unknown.slice(0, MAX_QUOTED_FIELD_LENGTH);
  throw new InvalidInput(`unknown field '${quoted}': expected ${[...fields].join(', ')}`, { field: quoted });
}
