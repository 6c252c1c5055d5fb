/** Milliseconds to hold this answer: none, a fixed delay, or a draw uniform in [min, max]. */
export function drawLatency(latencyMs: number | [number, number] | undefined, random: () => number): number {
  if (latencyMs === undefined) return 0;
  return typeof latencyMs === 'number' ? latencyMs : latencyMs[0] + random() * (latencyMs[1] - latencyMs[0]);
}
