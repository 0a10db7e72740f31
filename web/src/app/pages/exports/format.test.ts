import { describe, expect, test } from 'vitest';
import { formatBytes } from './format';

describe('formatBytes', () => {
  test('bytes, then binary units with one decimal below 10', () => {
    expect(formatBytes(null)).toBe('—');
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1.0 KiB');
    expect(formatBytes(3868)).toBe('3.8 KiB');
    expect(formatBytes(150 * 1024 * 1024)).toBe('150 MiB');
    expect(formatBytes(5 * 1024 ** 4)).toBe('5.0 TiB');
    expect(formatBytes(5 * 1024 ** 5)).toBe('5120 TiB');
  });
});
