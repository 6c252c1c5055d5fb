// Preloaded into a benchmarked process: its peak resident memory and peak live heap, on stderr at exit.
import { writeSync } from 'node:fs';

let heapPeak = 0;
setInterval(() => {
  heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
}, 50).unref();
process.on('exit', () =>
  writeSync(2, `\nPEAK_RSS_KB=${process.resourceUsage().maxRSS} PEAK_HEAP_KB=${Math.round(heapPeak / 1024)}\n`),
);
