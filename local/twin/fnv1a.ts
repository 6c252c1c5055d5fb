/**
 * 32-bit FNV-1a of the UTF-16 code units. The twin keeps its own copy rather than the export's: its demo
 * data must stay the same whatever the product does with its hashing.
 */
export function fnv1a(text: string): number {
  const units = Uint16Array.from({ length: text.length }, (_, i) => text.charCodeAt(i));
  return units.reduce((hash, unit) => Math.imul(hash ^ unit, 0x01000193), 0x811c9dc5) >>> 0;
}
