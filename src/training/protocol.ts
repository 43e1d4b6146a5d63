/** Messages between the training coordinator and its replica threads. */
import type { ArchitectureConfig } from '../model/architecture.ts';
import type { LineArchitecture } from '../model/line-architecture.ts';
import type { LineDataConfig } from './line-samples.ts';
import type { LineSourceDirs } from './line-sources.ts';

export interface SerializedTensor {
  readonly name: string;
  readonly shape: number[];
  readonly data: Float32Array;
}

/** Weights and optimizer state: everything a replica needs to continue exactly. */
export interface ReplicaState {
  readonly modelTopology: object;
  readonly weightSpecs: unknown[];
  readonly weightData: ArrayBuffer;
  readonly optimizer: SerializedTensor[];
  /** The same weights' moving average, laid out as `weightData`; null when not kept. */
  readonly averagedWeightData: ArrayBuffer | null;
}

/** What every replica is sent besides its own work: the averaged step, and "your state". */
export type ApplyRequest = {
  type: 'apply';
  gradients: Float32Array;
  learningRate: number;
  step: number;
};
type SharedRequests = ApplyRequest | { type: 'state' };

/** How a replica starts: fresh weights from `architecture` and `seed`, or those of `state`. */
interface InitRequest<A> {
  type: 'init';
  architecture: A;
  seed: number;
  state: ReplicaState | null;
  averageDecay: number | null;
}

/** What every replica answers besides its own work. */
type SharedReplies =
  | { type: 'ready'; params: number }
  | { type: 'state'; state: ReplicaState }
  | { type: 'error'; message: string };

export type ToReplica =
  | SharedRequests
  | InitRequest<ArchitectureConfig>
  | { type: 'gradients'; images: Float32Array; labels: Uint8Array; count: number }
  | { type: 'predict'; images: Float32Array; count: number; averaged: boolean };

export type FromReplica =
  | SharedReplies
  | { type: 'gradients'; gradients: Float32Array; loss: number; correct: number; count: number }
  | { type: 'predict'; probabilities: Float32Array };

/** Messages between the line model's training coordinator and its replicas. */
export type ToLineReplica =
  | SharedRequests
  | (InitRequest<LineArchitecture> & { data: LineDataConfig; dirs: LineSourceDirs })
  /** Draw `count` training strips from `seed` and answer their mean gradient. */
  | { type: 'gradients'; count: number; seed: number }
  /** Logits of strips of equal width (count x LINE_HEIGHT x width), from the averaged weights if asked. */
  | { type: 'logits'; images: Float32Array; count: number; width: number; averaged: boolean };

export type FromLineReplica =
  | SharedReplies
  | { type: 'gradients'; gradients: Float32Array; loss: number; count: number; columns: number }
  | { type: 'logits'; logits: Float32Array };
