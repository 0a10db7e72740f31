import { describe, expect, it } from 'vitest';
import { exportUrl, fileName } from './download';

describe('audit export URL and file name', () => {
  it('carries the page filter as the server reads it', () => {
    const url = exportUrl('csv', {
      action: 'api_key.create',
      actor: '01a2-x',
      since: '2026-12-01T00:00:00.000Z',
      until: '2026-12-02T00:00:00.000Z',
    });
    const q = new URL(url, 'http://x').searchParams;
    expect(url.startsWith('/v1/audit-log/export?')).toBe(true);
    expect(Object.fromEntries(q)).toEqual({
      format: 'csv',
      action: 'api_key.create',
      actor: '01a2-x',
      since: '2026-12-01T00:00:00.000Z',
      until: '2026-12-02T00:00:00.000Z',
    });
    expect(exportUrl('jsonl', {})).toBe('/v1/audit-log/export?format=jsonl');
  });

  it("takes the server's file name, never a path", () => {
    expect(fileName('attachment; filename="audit-log-t-20261206T100000Z.csv"', 'csv')).toBe(
      'audit-log-t-20261206T100000Z.csv',
    );
    expect(fileName('attachment; filename="../etc/passwd"', 'jsonl')).toBe('audit-log.jsonl');
    expect(fileName(null, 'jsonl')).toBe('audit-log.jsonl');
  });
});
