/** Messages between the training coordinator and its replica threads. */
import type { ArchitectureConfig } from '../model/architecture.ts';

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
}

export type ToReplica =
  | { type: 'init'; architecture: ArchitectureConfig; seed: number; state: ReplicaState | null }
  | { type: 'gradients'; images: Float32Array; labels: Uint8Array; count: number }
  | { type: 'apply'; gradients: Float32Array; learningRate: number }
  | { type: 'predict'; images: Float32Array; count: number }
  | { type: 'state' };

export type FromReplica =
  | { type: 'ready'; params: number }
  | { type: 'gradients'; gradients: Float32Array; loss: number; correct: number; count: number }
  | { type: 'predict'; probabilities: Float32Array }
  | { type: 'state'; state: ReplicaState }
  | { type: 'error'; message: string };
