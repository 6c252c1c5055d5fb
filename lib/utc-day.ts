/** The UTC calendar day (YYYY-MM-DD) of unix seconds: TC3's credential scope and the lake's dt= partition. */
export function utcDay(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}
