/** Order statistics for noisy measurements: medians and percentiles, never means alone. */

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  p50: number;
  p99: number;
}

/** Nearest-rank percentile of an ascending array (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error('percentile of no samples');
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function median(samples: readonly number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  if (s.length === 0) throw new Error('median of no samples');
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function summarize(samples: readonly number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  if (s.length === 0) throw new Error('summary of no samples');
  return { n: s.length, median: median(s), min: s[0], max: s[s.length - 1], p50: percentile(s, 50), p99: percentile(s, 99) };
}

/** Pairwise ratios a[i] / b[i] (interleaved runs), summarised. */
export function ratios(a: readonly number[], b: readonly number[]): Summary {
  if (a.length !== b.length) throw new Error(`ratios of ${a.length} and ${b.length} samples`);
  return summarize(a.map((x, i) => x / b[i]));
}

export const round = (n: number, digits = 2): number => Number(n.toFixed(digits));

export function fmtMs(n: number): string {
  if (n >= 10_000) return `${(n / 1000).toFixed(1)} s`;
  if (n >= 100) return `${Math.round(n)} ms`;
  if (n >= 10) return `${n.toFixed(1)} ms`;
  return `${n.toFixed(2)} ms`;
}

/** "median (min–max)" of a summary in ms. */
export function fmtSummaryMs(s: Summary): string {
  return `${fmtMs(s.median)} (${fmtMs(s.min)}–${fmtMs(s.max)})`;
}

/** A ratio as a signed percentage: 1.012 → "+1.2%". */
export function fmtPct(ratio: number): string {
  const pct = (ratio - 1) * 100;
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%`;
}

export function fmtRatio(s: Summary): string {
  return `×${s.median.toFixed(3)} (${s.min.toFixed(3)}–${s.max.toFixed(3)})`;
}

/**
 * Distribution-free ~95% confidence interval of the median (order statistics, normal approximation
 * of the binomial): with few samples it is wide, which is the point on a noisy machine.
 */
export function medianCI(samples: readonly number[]): [number, number] {
  const s = [...samples].sort((a, b) => a - b);
  const n = s.length;
  const k = Math.max(0, Math.floor((n - 1.96 * Math.sqrt(n)) / 2) - 1);
  return [s[k], s[Math.min(n - 1, n - 1 - k)]];
}
