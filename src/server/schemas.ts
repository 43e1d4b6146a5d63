/**
 * The JSON schemas of the HTTP API (design.md, "HTTP API"): they validate every request body,
 * serialize every answer and are published as OpenAPI at /docs. The handlers' types of the
 * requests are taken from them (`FromSchema`), so the two cannot drift apart.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { ENSEMBLES } from '../core/vote.ts';
import { MAX_SIDE } from '../node/decode.ts';

/** Items in one POST /api/predict/batch. */
export const MAX_BATCH = 256;

/**
 * Request bodies up to 16 MiB: a 2048x2048 canvas PNG as a data URL is well under 1 MB (even
 * an incompressible 2048x2048 RGB PNG is about 16 MB of base64, the edge of the limit), a
 * 280x280 `pixels` array is about 300 kB, and a batch of 256 canvas snapshots a few MB.
 * A full 2048x2048 `pixels` array (4M numbers) only fits with short numbers; send big images
 * as PNG instead. Larger bodies are refused with 413 before they are read.
 */
export const DEFAULT_BODY_LIMIT = 16 * 1024 * 1024;

export const MAX_PIXELS = MAX_SIDE * MAX_SIDE;

const ensembleSchema = {
  type: 'string',
  enum: [...ENSEMBLES],
  description:
    'How the 10 test-time variants are combined: `vote` (majority of their argmaxes, ties broken by mean probability), `mean` (mean of the probabilities) or `off` (the plain input only). Default `vote`.',
} as const;

const sideSchema = (name: string) =>
  ({
    type: 'integer',
    minimum: 1,
    maximum: MAX_SIDE,
    description: `${name} of the \`pixels\` image, 1..${MAX_SIDE}.`,
  }) as const;

/**
 * One image to recognize. Either `image`, or `pixels` with `width` and `height`: the handler
 * checks that rule itself (see validation.ts) so that the caller gets one clear message
 * rather than the errors of every branch of a `oneOf`.
 */
export const predictRequestSchema = {
  type: 'object',
  additionalProperties: false,
  description:
    'Send either `image` (a PNG or JPEG data URL, or bare base64, up to 2048x2048: dark ink on a light or transparent background), or `pixels` with `width` and `height` (grayscale 0..255, row-major) and optionally `ink`.',
  properties: {
    image: {
      // Not empty, checked by the handler (validation.ts): a schema `minLength` makes Ajv
      // count the code points of every image, most of a large batch's validation time.
      type: 'string',
      description:
        'A canvas snapshot: `data:image/png;base64,...`, a JPEG data URL, or bare base64; not empty.',
    },
    pixels: {
      type: 'array',
      maxItems: MAX_PIXELS,
      items: { type: 'number', minimum: 0, maximum: 255 },
      description: 'Grayscale values 0..255, row-major; exactly `width` x `height` of them.',
    },
    width: sideSchema('Width'),
    height: sideSchema('Height'),
    ink: {
      type: 'string',
      enum: ['dark', 'light'],
      description:
        '`dark` (default): dark ink on a light background, as drawn. `light`: white digit on black, as MNIST itself.',
    },
    ensemble: ensembleSchema,
    layout: {
      type: 'string',
      enum: ['number', 'lines'],
      description:
        'POST /api/read only. `number` (default): the image is one number. `lines`: a page (a form, a list of amounts) read line by line, top to bottom; the answer lists them in `lines`.',
    },
  },
} as const;

export type PredictRequest = FromSchema<typeof predictRequestSchema>;

const probabilityVector = {
  type: 'array',
  minItems: 10,
  maxItems: 10,
  items: { type: 'number' },
} as const;

/** design.md, "Unsure": shared by a single digit's answer and each digit of a number. */
export const uncertaintyProperties = {
  unsure: {
    type: 'boolean',
    description: 'True when the drawing does not look like a digit, or could be more than one.',
  },
  reason: {
    type: ['string', 'null'],
    enum: ['not_a_digit', 'ambiguous', null],
    description: 'Why it is unsure: `not_a_digit`, `ambiguous`, or null when sure.',
  },
  alternatives: {
    type: 'array',
    description: 'When ambiguous: the next most likely digits, most likely first.',
    items: {
      type: 'object',
      required: ['digit', 'confidence'],
      properties: {
        digit: { type: 'integer', minimum: 0, maximum: 9 },
        confidence: { type: 'number', description: "The digit's mean probability." },
      },
    },
  },
} as const;

export const recognitionSchema = {
  type: 'object',
  description: 'The recognised digit, how sure the model is, and the 28x28 it saw.',
  required: [
    'digit',
    'confidence',
    'probabilities',
    'votes',
    'variants',
    'ensemble',
    'input',
    'ms',
    'unsure',
    'reason',
  ],
  properties: {
    digit: {
      type: 'integer',
      minimum: 0,
      maximum: 9,
      description: 'The recognised digit (the best guess, also when unsure).',
    },
    ...uncertaintyProperties,
    confidence: {
      type: 'number',
      description: "The winning digit's mean probability over the variants.",
    },
    probabilities: { ...probabilityVector, description: 'Mean probability of each digit 0..9.' },
    votes: {
      ...probabilityVector,
      items: { type: 'integer' },
      description: 'How many variants chose each digit; they sum to `variants`.',
    },
    variants: { type: 'integer', description: 'Variants the decision used (10, or 1 with `off`).' },
    ensemble: ensembleSchema,
    input: {
      type: 'array',
      minItems: 784,
      maxItems: 784,
      items: { type: 'number' },
      description: 'The 28x28 the model saw, row-major, 0..1 (ink = 1).',
    },
    ms: {
      type: 'number',
      description:
        'Milliseconds the recognizer spent on this image: decoding, preprocessing and its share of the forward pass.',
    },
  },
} as const;

const boxSchema = {
  type: 'object',
  description: "The digit's box in the input image, in its pixels.",
  required: ['x', 'y', 'width', 'height'],
  properties: {
    x: { type: 'integer' },
    y: { type: 'integer' },
    width: { type: 'integer' },
    height: { type: 'integer' },
  },
} as const;

/** One digit of a number: a recognition (every field of one) and its box. */
export const digitReadingSchema = {
  ...recognitionSchema,
  description: 'One digit of the number: its recognition, and where it is in the image.',
  required: [...recognitionSchema.required, 'box'],
  properties: { ...recognitionSchema.properties, box: boxSchema },
} as const;

const markList = {
  type: 'array',
  description:
    'What was read beside the digits, in reading order: separators (`.` `,` `-` `/`) and marks that are no digit, each with its box.',
  items: {
    type: 'object',
    required: ['kind', 'box'],
    properties: {
      kind: { type: 'string', enum: ['separator', 'other'] },
      box: boxSchema,
    },
  },
} as const;

export const readingSchema = {
  type: 'object',
  description:
    'The number read from the drawing, its digits left to right. The line model reads the whole drawing at once; each digit is also read alone by the digit model (its votes, and the 28x28 it saw).',
  required: ['text', 'digits', 'marks', 'unsure', 'reason', 'ms'],
  properties: {
    text: {
      type: 'string',
      description: "Each digit's best guess, in reading order; separators are never in it.",
    },
    unsure: {
      type: 'boolean',
      description: 'True when the drawing is not a number, or any of its digits is unsure.',
    },
    reason: {
      type: ['string', 'null'],
      enum: ['not_a_number', 'ambiguous', null],
      description:
        'Why it is unsure: `not_a_number` (a word, a letter, a scribble: the drawing as a whole is no number), `ambiguous` (a digit is in doubt), or null when sure.',
    },
    digits: {
      type: 'array',
      items: digitReadingSchema,
      description: 'The digits in reading order (left to right).',
    },
    marks: markList,
    ms: {
      type: 'number',
      description:
        'Milliseconds the recognizer spent on this image: decoding, segmenting, preparing and its share of the forward pass.',
    },
    lines: {
      type: 'array',
      description:
        'With `layout: "lines"`: the lines of the page, top to bottom. The reading\'s `digits` and `marks` are all the lines\', in order, and its `text` their texts with "\\n" between; it is `not_a_number` when no line is a number, and unsure when any line is.',
      items: {
        type: 'object',
        required: ['text', 'unsure', 'reason', 'box', 'first', 'count', 'marks'],
        properties: {
          text: { type: 'string', description: "The line's digits." },
          unsure: { type: 'boolean' },
          reason: {
            type: ['string', 'null'],
            enum: ['not_a_number', 'ambiguous', null],
            description: "As the reading's own `reason`, for this line.",
          },
          box: { ...boxSchema, description: "The line's ink, in the image's pixels." },
          first: {
            type: 'integer',
            description: "The index in `digits` of the line's first digit.",
          },
          count: { type: 'integer', description: "How many of `digits` are the line's." },
          marks: markList,
        },
      },
    },
  },
} as const;

export const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: {
          type: 'string',
          description:
            'invalid_request, payload_too_large, unsupported_media_type, invalid_image, empty_image, rate_limited, overloaded, not_found, not_ready, model_unavailable, unauthorized, too_many_corrections, corrections_unavailable, internal_error',
        },
        message: { type: 'string', description: 'What went wrong and what to change.' },
      },
    },
  },
} as const;

export const batchRequestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['items'],
  properties: {
    items: {
      type: 'array',
      maxItems: MAX_BATCH,
      items: predictRequestSchema,
      description: `Up to ${MAX_BATCH} images, each as for POST /api/predict. Each is validated on its own: a bad item gets an error object in \`results\` and does not fail the others.`,
    },
    ensemble: {
      ...ensembleSchema,
      description: 'Default `ensemble` for the items that do not set their own.',
    },
  },
} as const;

/**
 * What the batch route really validates up front: the envelope. The items are checked one
 * by one in the handler, so one bad item does not fail the whole batch.
 */
export const batchEnvelopeSchema = {
  ...batchRequestSchema,
  properties: {
    ...batchRequestSchema.properties,
    items: { ...batchRequestSchema.properties.items, items: {} },
  },
} as const;

/** The items are `unknown` until each is checked (validation.ts). */
export type BatchRequest = FromSchema<typeof batchEnvelopeSchema>;

/** A batch's answer: one result per item, in order, each `what` or an error object. */
const batchOf = <T extends object>(what: string, result: T) =>
  ({
    type: 'object',
    description: 'One result per item, in order.',
    required: ['results'],
    properties: {
      results: {
        type: 'array',
        description: `One entry per item, in order: ${what} or an error object.`,
        // The error shape first: a result fails it at once (no `error`), which keeps the
        // serializer's choice between the two cheap.
        items: { anyOf: [errorSchema, result] },
      },
    },
  }) as const;

export const batchResponseSchema = batchOf('a recognition', recognitionSchema);

export const readBatchResponseSchema = batchOf('a reading', readingSchema);

export const healthSchema = {
  type: 'object',
  description: 'The model is loaded and warmed up.',
  required: ['status', 'model'],
  properties: {
    status: { type: 'string', enum: ['ok'] },
    model: {
      type: 'object',
      required: ['name', 'params'],
      properties: { name: { type: 'string' }, params: { type: 'integer' } },
    },
  },
} as const;

/** The error answers every JSON route can give, for the OpenAPI description. */
export const errorResponses = {
  '4xx': { ...errorSchema, description: 'The request cannot be served as sent.' },
  '5xx': { ...errorSchema, description: 'The server could not answer.' },
} as const;
