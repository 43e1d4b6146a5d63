/** Errors about the caller's input, with the code of the API contract (design.md). */
export type InputErrorCode = 'invalid_request' | 'invalid_image' | 'empty_image';

export class InputError extends Error {
  constructor(
    readonly code: InputErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'InputError';
  }
}
