/** The page's reading of the server's own time from its Server-Timing header. */
import { describe, expect, it } from 'vitest';
import { serverTimingMs } from '../../src/web/api-client.ts';

describe('serverTimingMs', () => {
  it("takes the `app` metric's duration, wherever it stands in the header", () => {
    expect(serverTimingMs('app;dur=12.5')).toBe(12.5);
    expect(serverTimingMs('cache;desc="hit";dur=0.3, app;dur=4')).toBe(4);
    expect(serverTimingMs('app;desc="digits";dur=7.25')).toBe(7.25);
  });

  it('is null when the server said nothing of its own time', () => {
    expect(serverTimingMs(null)).toBeNull();
    expect(serverTimingMs('')).toBeNull();
    expect(serverTimingMs('db;dur=3')).toBeNull();
    expect(serverTimingMs('application;dur=3')).toBeNull();
    expect(serverTimingMs('app')).toBeNull();
  });
});
