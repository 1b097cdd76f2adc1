import { formatBytes, type Progress } from '@spool/client';

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

/**
 * One line: a bar of what was sent, how much of it the server has confirmed, speed and time
 * left. Without a known total (a stream still being read) there is no bar and no estimate.
 */
export function renderProgress(progress: Progress, speed: number | undefined, width = 24): string {
  const { sent, acknowledged, total } = progress;
  const parts: string[] = [];
  if (total !== undefined && total > 0) {
    const filled = Math.min(width, Math.floor((sent / total) * width));
    const percent = Math.floor((sent / total) * 100);
    parts.push(
      `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(percent).padStart(3)}%`,
    );
    parts.push(`${formatBytes(sent)} / ${formatBytes(total)}`);
  } else {
    parts.push(formatBytes(sent));
  }
  parts.push(`stored ${formatBytes(acknowledged)}`);
  if (speed !== undefined) {
    parts.push(`${formatBytes(speed)}/s`);
    if (total !== undefined && speed > 0)
      parts.push(`ETA ${formatDuration((total - sent) / speed)}`);
  }
  return parts.join('  ');
}
