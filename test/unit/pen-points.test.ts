import { describe, expect, it } from 'vitest';
import { boundsOf } from '../../src/core/pen-points.ts';

describe('boundsOf', () => {
  it('holds every point of every stroke', () => {
    const strokes = [
      [
        { x: 3, y: 7 },
        { x: -2, y: 9 },
      ],
      [{ x: 5, y: -1 }],
    ];
    expect(boundsOf(strokes)).toEqual({ x0: -2, y0: -1, x1: 5, y1: 9 });
  });

  it('is empty (x0 > x1) without points', () => {
    const b = boundsOf([[]]);
    expect(b.x0).toBeGreaterThan(b.x1);
    expect(b.y0).toBeGreaterThan(b.y1);
  });
});
