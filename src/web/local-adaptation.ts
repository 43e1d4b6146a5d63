/**
 * Adapting in-browser answers to the user's corrections, with the same code as the server
 * (src/core/adapt.ts): the corrections' feature vectors come from this browser's copy of
 * the network, built once and again after every change.
 */
import { adaptAnswer, CorrectionMemory, type AdaptationInfo } from '../core/adapt.ts';
import { MODEL_SIZE, type GrayImage } from '../core/image.ts';
import type { Recognition, Recognizer } from '../recognizer/recognizer.ts';
import type { CorrectionsBackend } from './corrections.ts';

const toImage = (input: readonly number[]): GrayImage => ({
  width: MODEL_SIZE,
  height: MODEL_SIZE,
  data: Float32Array.from(input),
});

export class LocalAdaptation {
  private memory: Promise<CorrectionMemory> | null = null;

  constructor(private readonly backend: CorrectionsBackend) {}

  /** The corrections changed: the memory is built again on next use. */
  invalidate(): void {
    this.memory = null;
  }

  /**
   * The recognition adapted to the corrections; as it was when they cannot be read (the
   * server is away, IndexedDB is unavailable).
   */
  async adapt(
    recognizer: Recognizer,
    recognition: Recognition,
  ): Promise<Recognition & { adaptation?: AdaptationInfo }> {
    let memory: CorrectionMemory;
    try {
      memory = await this.memoryFor(recognizer);
    } catch {
      this.memory = null;
      return recognition;
    }
    if (memory.size === 0) return recognition;
    const [{ features }] = recognizer.recognizeWithFeatures([toImage(recognition.input)], 'off');
    return adaptAnswer(recognition, features, memory);
  }

  private memoryFor(recognizer: Recognizer): Promise<CorrectionMemory> {
    this.memory ??= this.backend.list().then((items) => {
      const memory = new CorrectionMemory(recognizer.featureSize);
      if (items.length === 0) return memory;
      const answers = recognizer.recognizeWithFeatures(
        items.map((item) => toImage(item.input)),
        'off',
      );
      answers.forEach(({ features }, i) => memory.add(features, items[i].label));
      return memory;
    });
    return this.memory;
  }
}
