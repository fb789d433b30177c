// Small display helpers shared by several components.

import type { Source } from '../api/types';
import type { T } from '../i18n';

export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

/** "page 3", "FAQ row 12", or nothing, for a source's location line. */
export function sourceLocation(source: Pick<Source, 'kind' | 'page' | 'row'>, t: T): string {
  if (source.kind === 'qa' && source.row !== null && source.row !== undefined) return t('faqRow', { n: source.row });
  if (source.page !== null && source.page !== undefined) return t('page', { n: source.page });
  return '';
}

export function isPdfPath(path: string): boolean {
  return /\.pdf$/i.test(path);
}

/** A duration as a clock ("0:42", "12:05", "1:02:09"): long runs' estimates and time left. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  const two = (n: number) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}
