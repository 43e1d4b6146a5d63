/**
 * The notifications the database sends on every committed change of the corrections (the
 * trigger of migration 2, migrations.ts), as CorrectionsChange values, and the
 * acknowledgements the listening instances send back ("heard " + the payload) once they have
 * applied a change.
 */
import type { CorrectionsChange } from './store.ts';

export const CHANGES_CHANNEL = 'corrections_changed';
/** The listening sessions' application_name: how a writer counts who must acknowledge. */
export const LISTENER_NAME = 'digits-listen';
const HEARD = 'heard ';

/**
 * A payload of the channel as a change. One this code does not know (a later version's)
 * counts as `cleared`: whoever caches forgets everything, which is always safe.
 */
export function parseChange(payload: string): CorrectionsChange {
  if (payload === 'cleared') return { kind: 'cleared' };
  const added = /^added (\d+) (\S+)$/.exec(payload);
  if (added) return { kind: 'added', id: Number(added[1]), user: added[2] };
  const deleted = /^deleted (\S+)$/.exec(payload);
  if (deleted) return { kind: 'deleted', user: deleted[1] };
  return { kind: 'cleared' };
}

/** The trigger's payload for a change of one user's corrections. */
export function payloadOf(
  change: Extract<CorrectionsChange, { kind: 'added' | 'deleted' }>,
): string {
  return change.kind === 'added' ? `added ${change.id} ${change.user}` : `deleted ${change.user}`;
}

/** The acknowledgement of a payload. */
export const heard = (payload: string) => HEARD + payload;

/** The payload an acknowledgement is of; null when it is none. */
export const acknowledged = (payload: string): string | null =>
  payload.startsWith(HEARD) ? payload.slice(HEARD.length) : null;
