// How the page writes sizes, speeds and times: short, in binary units, never "NaN".
import { formatBytes } from '@spool/client/browser';

/** Bytes a second as "8.1 MiB/s"; nothing when there is no rate to speak of. */
export function formatRate(bytesPerSecond: number | undefined): string {
  if (bytesPerSecond === undefined || !Number.isFinite(bytesPerSecond)) return '';
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** A time left, rounded the way people say it: "42 s", "3 min 10 s", "2 h 5 min". */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '';
  const s = Math.ceil(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) {
    const m = Math.floor(s / 60);
    const rest = s % 60;
    return rest === 0 ? `${m} min` : `${m} min ${rest} s`;
  }
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}

/** A whole percentage that reads 100 only when everything is there. */
export function formatPercent(done: number, total: number): string {
  if (total <= 0) return '0%';
  const percent = Math.floor((done / total) * 100);
  return `${Math.min(percent, done >= total ? 100 : 99)}%`;
}
