/**
 * The page's correction controls (design.md, "Corrections"): after an answer, "Wrong? Pick
 * the right digit" stores the drawing with the right digit, for a user ID made up at random
 * and kept in this browser; "Forget my corrections" deletes them. On the server page the
 * corrections are the server's (POST/GET/DELETE api/corrections); in the static build they
 * stay in this browser (IndexedDB). Either way the answers adapt with src/core/adapt.ts:
 * the server adapts its own answers, and in-browser recognition adapts here
 * (local-adaptation.ts).
 */
import { aDigit } from '../core/classes.ts';
import { byteOfUnit } from '../core/image.ts';
import { reach } from './api-client.ts';
import { browserStorage } from './browser-storage.ts';

/** A stored correction as the page needs it: the 28x28 the model saw (0..1) and its digit. */
export interface StoredCorrection {
  readonly label: number;
  readonly input: readonly number[];
}

export interface CorrectionsBackend {
  /** Where corrections are kept, for the page's wording. */
  readonly where: 'server' | 'browser';
  add(input: readonly number[], label: number): Promise<void>;
  list(): Promise<StoredCorrection[]>;
  forget(): Promise<void>;
}

const USER_KEY = 'digits-user';
const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** 22 random characters of [A-Za-z0-9_-] (132 bits): the user ID the API expects. */
export function randomUserId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(22));
  return Array.from(bytes, (b) => ID_ALPHABET[b & 63]).join('');
}

/** This browser's user ID, made once and kept in localStorage (or, without it, for this visit). */
export function userId(
  storage: Pick<Storage, 'getItem' | 'setItem'> | null = browserStorage(),
): string {
  const kept = storage?.getItem(USER_KEY);
  if (kept && /^[A-Za-z0-9_-]{8,64}$/.test(kept)) return kept;
  const made = randomUserId();
  storage?.setItem(USER_KEY, made);
  return made;
}

async function failure(response: Response): Promise<Error> {
  let message = `HTTP ${response.status}`;
  try {
    const body = (await response.json()) as { error?: { message?: string } };
    if (body.error?.message) message = body.error.message;
  } catch {
    // Not the API's JSON: keep the status.
  }
  return new Error(message);
}

/** A request to the corrections API; no answer at all is said in words a person understands. */
const call = (url: string, init: RequestInit = {}) =>
  reach(url, init, 'the server cannot be reached; try again once it is back');

/** Set, to the user ID, once this browser has stored a correction on the server. */
const CORRECTED_KEY = 'digits-corrected';

/**
 * The server's corrections for `user` (relative URLs: the page works under any prefix). The
 * user ID lives in this browser only, so until a correction is stored from it the server has
 * none to list: the page does not ask (most visitors never correct anything, and a server
 * without a corrections store would answer each time with an error).
 */
export function serverCorrections(
  user: string,
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null = browserStorage(),
): CorrectionsBackend {
  const url = `api/corrections?user=${encodeURIComponent(user)}`;
  return {
    where: 'server',
    async add(input, label) {
      // What the model saw, sent back as a 28x28 MNIST-style image (white ink on black).
      const pixels = input.map(byteOfUnit);
      const response = await call('api/corrections', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ pixels, width: 28, height: 28, ink: 'light', label, user }),
      });
      if (response.status !== 201) throw await failure(response);
      storage?.setItem(CORRECTED_KEY, user);
    },
    async list() {
      if (storage && storage.getItem(CORRECTED_KEY) !== user) return [];
      const response = await call(url);
      if (!response.ok) throw await failure(response);
      return ((await response.json()) as { items: StoredCorrection[] }).items;
    },
    async forget() {
      const response = await call(url, { method: 'DELETE' });
      if (response.status !== 204) throw await failure(response);
      storage?.removeItem(CORRECTED_KEY);
    },
  };
}

const DB_NAME = 'digits';
const STORE = 'corrections';

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

/** Corrections kept in this browser's IndexedDB: nothing leaves the page. */
export function browserCorrections(factory: IDBFactory = indexedDB): CorrectionsBackend {
  let db: Promise<IDBDatabase> | null = null;
  const open = () => {
    db ??= new Promise<IDBDatabase>((resolve, reject) => {
      const req = factory.open(DB_NAME, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE, { autoIncrement: true });
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error ?? new Error('IndexedDB cannot be opened'));
    });
    return db;
  };
  const store = async (mode: IDBTransactionMode) =>
    (await open()).transaction(STORE, mode).objectStore(STORE);
  return {
    where: 'browser',
    async add(input, label) {
      await request((await store('readwrite')).add({ label, input: Array.from(input) }));
    },
    async list() {
      return request((await store('readonly')).getAll() as IDBRequest<StoredCorrection[]>);
    },
    async forget() {
      await request((await store('readwrite')).clear());
    },
  };
}

/**
 * What the correction controls show, as data: `mountCorrections` renders it, and each thing
 * that happens (an answer shown, a request sent, its outcome) gives the next one
 * (`nextCorrectionView`), so the rules can be tested without a page.
 */
export interface CorrectionView {
  /** The digit of the answer shown (never offered as its own correction); null: hidden. */
  readonly digit: number | null;
  /** A request is out: every control waits for it. */
  readonly pending: boolean;
  /** Counts the answers of another drawing, or another digit of it. */
  readonly generation: number;
  /** The generation a request went out in: its outcome speaks only of that answer. */
  readonly sentIn: number;
  /** The digit just taught: the same drawing read again says whether it reads as it now. */
  readonly taught: number | null;
  readonly status: string;
  readonly kind: 'info' | 'done' | 'error';
}

export const NO_CORRECTION_VIEW: CorrectionView = {
  digit: null,
  pending: false,
  generation: 0,
  sentIn: -1,
  taught: null,
  status: '',
  kind: 'info',
};

export type CorrectionEvent =
  /** An answer is shown; `again`: the same drawing and digit answered again. */
  | { readonly type: 'answer'; readonly digit: number | null; readonly again: boolean }
  | { readonly type: 'sent' }
  | { readonly type: 'stored'; readonly label: number }
  | { readonly type: 'forgotten' }
  | { readonly type: 'failed'; readonly message: string };

/** The view after `event`; `where` the corrections are kept, for the wording. */
export function nextCorrectionView(
  view: CorrectionView,
  event: CorrectionEvent,
  where: string,
): CorrectionView {
  switch (event.type) {
    case 'answer': {
      if (!event.again || event.digit === null) {
        // Another drawing, or another digit of it: what the status said was about the last.
        return {
          ...view,
          digit: event.digit,
          generation: view.generation + 1,
          taught: null,
          status: '',
          kind: 'info',
        };
      }
      if (view.taught === null) return { ...view, digit: event.digit };
      // One correction moves only what the model was not too sure of (src/core/adapt.ts).
      const took = event.digit === view.taught;
      return {
        ...view,
        digit: event.digit,
        taught: null,
        status: took
          ? `Learned: drawings like this one are your ${view.taught}s (kept ${where}).`
          : `Kept ${where}, but this drawing still reads as ${event.digit}: the model is too ` +
            `sure of it for one correction. Correct more drawings like it to teach it.`,
        kind: took ? 'done' : 'info',
      };
    }
    case 'sent':
      return { ...view, pending: true, sentIn: view.generation };
    case 'stored':
      // The drawing is read again next, unless another was shown meanwhile.
      return view.sentIn === view.generation
        ? {
            ...view,
            pending: false,
            taught: event.label,
            status: `Kept ${where}; reading the drawing again…`,
            kind: 'info',
          }
        : { ...view, pending: false, status: `Kept ${where}.`, kind: 'done' };
    case 'forgotten':
      return {
        ...view,
        pending: false,
        taught: null,
        status: 'Your corrections are forgotten: answers are the model’s own again.',
        kind: 'done',
      };
    case 'failed':
      return { ...view, pending: false, status: event.message, kind: 'error' };
  }
}

export interface CorrectionControls {
  /**
   * After an answer: offer to correct it. Null hides the controls (no answer shown). `again`:
   * the same drawing and digit answered again (after a correction, or with another ensemble),
   * which keeps what the status says, or tells whether a correction just made took.
   */
  show(
    answer: { readonly digit: number; readonly input: readonly number[] } | null,
    again?: boolean,
  ): void;
}

export interface CorrectionOptions {
  readonly backend: CorrectionsBackend;
  /** A correction was stored or the corrections were forgotten: answer the drawing again. */
  readonly onChange: () => void;
}

/** Builds the controls at the end of `parent` and wires them to the backend. */
export function mountCorrections(
  parent: HTMLElement,
  options: CorrectionOptions,
): CorrectionControls {
  const { backend } = options;
  const root = document.createElement('div');
  root.className = 'corrections';
  root.dataset.testid = 'corrections';
  root.hidden = true;
  const prompt = document.createElement('p');
  prompt.className = 'corrections-prompt';
  prompt.textContent = 'Wrong? Pick the right digit:';
  const picks = document.createElement('div');
  picks.className = 'corrections-digits';
  picks.setAttribute('role', 'group');
  picks.setAttribute('aria-label', 'The right digit');
  const buttons = Array.from({ length: 10 }, (_, digit) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = String(digit);
    button.dataset.testid = `correct-${digit}`;
    button.setAttribute('aria-label', `It is ${aDigit(digit)}`);
    picks.append(button);
    return button;
  });
  const status = document.createElement('p');
  status.className = 'corrections-status';
  status.dataset.testid = 'correction-status';
  status.setAttribute('role', 'status');
  const forget = document.createElement('button');
  forget.type = 'button';
  forget.className = 'corrections-forget';
  forget.dataset.testid = 'forget-corrections';
  forget.textContent = 'Forget my corrections';
  root.append(prompt, picks, status, forget);
  parent.append(root);

  const where = backend.where === 'server' ? 'on the server' : 'in this browser only';
  let view = NO_CORRECTION_VIEW;
  /** What the model saw of the answer shown: what a correction stores. */
  let input: readonly number[] | null = null;
  const update = (event: CorrectionEvent) => {
    view = nextCorrectionView(view, event, where);
    root.hidden = view.digit === null;
    status.textContent = view.status;
    status.dataset.kind = view.kind;
    forget.disabled = view.pending;
    for (const [digit, button] of buttons.entries()) {
      button.classList.toggle('shown', digit === view.digit);
      button.disabled = view.pending || digit === view.digit;
    }
  };
  const reason = (err: unknown) => (err instanceof Error ? err.message : String(err));

  buttons.forEach((button, label) =>
    button.addEventListener('click', () => {
      if (!input || view.pending) return;
      update({ type: 'sent' });
      backend.add(input, label).then(
        () => {
          update({ type: 'stored', label });
          options.onChange();
        },
        (err: unknown) =>
          update({ type: 'failed', message: `The correction was not stored: ${reason(err)}` }),
      );
    }),
  );
  forget.addEventListener('click', () => {
    if (view.pending) return;
    update({ type: 'sent' });
    backend.forget().then(
      () => {
        update({ type: 'forgotten' });
        options.onChange();
      },
      (err: unknown) =>
        update({ type: 'failed', message: `Nothing was forgotten: ${reason(err)}` }),
    );
  });

  return {
    show(answer, again = false) {
      input = answer?.input ?? null;
      update({ type: 'answer', digit: answer?.digit ?? null, again });
    },
  };
}
