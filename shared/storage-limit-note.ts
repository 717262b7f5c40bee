/**
 * How a session that reached its storage limit (companion config sessionMaxStorageBytes) is
 * described wherever it is shown: `restory list` and `status`, the resume report, the popup.
 */

/** 2097152 → "2 MiB", 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : Number(value.toFixed(1))} ${units[unit]}`;
}

export function storageLimitNote(limit: { bytes: number }): string {
  return `storage limit of ${formatBytes(limit.bytes)} reached: storage written beyond it was not captured (config sessionMaxStorageBytes)`;
}
