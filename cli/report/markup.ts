/** Text and attribute values inside HTML and inline SVG: the five characters that could end them. */
export function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Text cut to `max` code points with an ellipsis (the whole text stays in the element's title). */
export function clip(text: string, max: number): string {
  const points = [...text];
  return points.length <= max ? text : `${points.slice(0, max - 1).join('')}…`;
}

/** Numbers in SVG coordinates: short, and never 1e-7. */
export const px = (n: number): string => (Math.round(n * 10) / 10).toString();
