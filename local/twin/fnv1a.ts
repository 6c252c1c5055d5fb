/**
 * 32-bit FNV-1a of the UTF-16 code units. The twin keeps its own copy rather than the export's: its demo
 * data must stay the same whatever the product does with its hashing.
 */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
