import { describe, expect, it } from 'vitest';
import {
  backendRequestFrom,
  choiceKey,
  fastest,
  fingerprint,
  planBackend,
  worthRemembering,
  type BackendChoice,
} from '../../src/web/backend-choice.ts';
import { rememberChoice, rememberedChoice } from '../../src/web/backend-memory.ts';

const key = choiceKey('0123abcd', 'Chromium 156', false);
const measuredWasm: BackendChoice = {
  backend: 'wasm',
  how: 'measured',
  key,
  times: { webgl: 270, wasm: 8 },
};

describe('planBackend', () => {
  it('uses a backend asked for by name, whatever is available', () => {
    expect(planBackend('webgl', ['wasm'], key, null)).toEqual({ use: 'webgl', how: 'asked' });
    expect(planBackend('cpu', ['webgl', 'wasm'], key, measuredWasm)).toEqual({
      use: 'cpu',
      how: 'asked',
    });
  });

  it('needs no measurement with one candidate (no GPU: WebAssembly)', () => {
    expect(planBackend('auto', ['wasm'], key, null)).toEqual({ use: 'wasm', how: 'only' });
    expect(planBackend('auto', [], key, null)).toEqual({ use: 'cpu', how: 'only' });
  });

  it('measures on the first load, then uses the remembered choice', () => {
    expect(planBackend('auto', ['webgl', 'wasm'], key, null)).toEqual({
      measure: ['webgl', 'wasm'],
    });
    expect(planBackend('auto', ['webgl', 'wasm'], key, measuredWasm)).toEqual({
      use: 'wasm',
      how: 'remembered',
    });
  });

  it('measures again when the models, the browser or the isolation changed', () => {
    for (const other of [
      choiceKey('ffff0000', 'Chromium 156', false),
      choiceKey('0123abcd', 'Chromium 157', false),
      choiceKey('0123abcd', 'Chromium 156', true),
    ]) {
      expect(planBackend('auto', ['webgl', 'wasm'], other, measuredWasm)).toEqual({
        measure: ['webgl', 'wasm'],
      });
    }
    // ... or when the remembered backend is no longer there (the GPU went away).
    const webgl: BackendChoice = { ...measuredWasm, backend: 'webgl' };
    expect(planBackend('auto', ['wasm'], key, webgl)).toEqual({ use: 'wasm', how: 'only' });
  });

  it('`measure` times every candidate, even where one would do', () => {
    expect(planBackend('measure', ['webgl', 'wasm'], key, measuredWasm)).toEqual({
      measure: ['webgl', 'wasm'],
    });
    expect(planBackend('measure', ['wasm'], key, null)).toEqual({ measure: ['wasm'] });
  });
});

describe('fastest', () => {
  it('picks the lowest time; ties go to WebGL, then WebAssembly', () => {
    expect(fastest({ webgl: 270, wasm: 8 })).toBe('wasm');
    expect(fastest({ webgl: 3, wasm: 8, cpu: 40 })).toBe('webgl');
    expect(fastest({ wasm: 5, webgl: 5 })).toBe('webgl');
    expect(fastest({ cpu: 40, wasm: Number.NaN })).toBe('cpu');
    expect(fastest({})).toBeNull();
  });
});

describe('the request and what is remembered', () => {
  it('reads ?backend= from the page URL, anything else is auto', () => {
    expect(backendRequestFrom('?backend=webgl')).toBe('webgl');
    expect(backendRequestFrom('?x=1&backend=measure')).toBe('measure');
    expect(backendRequestFrom('?backend=gpu')).toBe('auto');
    expect(backendRequestFrom('')).toBe('auto');
  });

  it('remembers only what `auto` measured', () => {
    expect(worthRemembering('auto', measuredWasm)).toBe(true);
    expect(worthRemembering('measure', measuredWasm)).toBe(false);
    expect(worthRemembering('auto', { ...measuredWasm, how: 'only' })).toBe(false);
  });

  it('keeps a choice in storage and reads it back as remembered; damage reads as none', () => {
    const kept = new Map<string, string>();
    const storage = {
      getItem: (k: string) => kept.get(k) ?? null,
      setItem: (k: string, v: string) => void kept.set(k, v),
    };
    expect(rememberedChoice(storage)).toBeNull();
    rememberChoice(measuredWasm, storage);
    expect(rememberedChoice(storage)).toEqual({ ...measuredWasm, how: 'remembered' });
    for (const damaged of ['{', '{"backend":"gpu","key":"k","times":{}}', '[]']) {
      kept.set([...kept.keys()][0], damaged);
      expect(rememberedChoice(storage)).toBeNull();
    }
    expect(rememberedChoice(null)).toBeNull();
  });
});

describe('fingerprint', () => {
  it('tells models apart by any byte, and parts by where they split', () => {
    const weights = new Uint8Array([1, 2, 3, 4]);
    const a = fingerprint(['{"topology":1}', weights]);
    expect(a).toMatch(/^[0-9a-f]{8}$/);
    expect(fingerprint(['{"topology":1}', new Uint8Array([1, 2, 3, 4])])).toBe(a);
    expect(fingerprint(['{"topology":1}', new Uint8Array([1, 2, 3, 5])])).not.toBe(a);
    expect(fingerprint(['{"topology":2}', weights])).not.toBe(a);
    expect(fingerprint(['ab', 'c'])).not.toBe(fingerprint(['a', 'bc']));
  });
});
