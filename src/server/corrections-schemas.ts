/**
 * The JSON schemas of the corrections routes (design.md, "Corrections"): they validate the
 * requests, serialize the answers and are published as OpenAPI at /docs.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { MAX_CORRECTIONS_PER_USER, USER_PATTERN } from '../store/store.ts';
import { predictRequestSchema, readingSchema, recognitionSchema } from './schemas.ts';

export const userSchema = {
  type: 'string',
  pattern: USER_PATTERN,
  description:
    'An opaque user ID the client makes up: 8-64 characters `A-Z a-z 0-9 _ -` (the page keeps a random one in the browser). Whoever knows it can read and delete its corrections.',
} as const;

/** A correction is one drawing: 1 MiB is far above a canvas snapshot or a 280x280 `pixels`. */
export const CORRECTION_BODY_LIMIT = 1024 * 1024;

/** The image fields of a prediction; a correction has no `ensemble`. */
const { image, pixels, width, height, ink } = predictRequestSchema.properties;
const imageProperties = { image, pixels, width, height, ink };

export const correctionRequestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['label', 'user'],
  description:
    'The drawing as for POST /api/predict (`image`, or `pixels` with `width` and `height`), the digit it really is, and who corrects it.',
  properties: {
    ...imageProperties,
    label: {
      type: 'integer',
      minimum: 0,
      maximum: 9,
      description: 'The digit the drawing really is, 0-9.',
    },
    user: userSchema,
  },
} as const;

export type CorrectionRequest = FromSchema<typeof correctionRequestSchema>;

export const correctionCreatedSchema = {
  type: 'object',
  description: `Stored and used for this user's next predictions at once. At most ${MAX_CORRECTIONS_PER_USER} per user.`,
  required: ['id', 'user', 'label'],
  properties: {
    id: { type: 'integer' },
    user: { type: 'string' },
    label: { type: 'integer', minimum: 0, maximum: 9 },
  },
} as const;

export const userQuerySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['user'],
  properties: { user: userSchema },
} as const;

export type UserQuery = FromSchema<typeof userQuerySchema>;

export const correctionListSchema = {
  type: 'object',
  description: "The user's corrections, oldest first.",
  required: ['items'],
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'label', 'created', 'input'],
        properties: {
          id: { type: 'integer' },
          label: { type: 'integer', minimum: 0, maximum: 9 },
          created: { type: 'string', format: 'date-time' },
          input: {
            type: 'array',
            minItems: 784,
            maxItems: 784,
            items: { type: 'number' },
            description:
              'The 28x28 the model saw, row-major, 0..1 (ink = 1), as in a recognition; stored at 8 bits.',
          },
        },
      },
    },
  },
} as const;

export type CorrectionItem = FromSchema<typeof correctionListSchema>['items'][number];

/** POST /api/predict's body: a prediction, and optionally whose corrections adapt it. */
export const adaptivePredictRequestSchema = {
  ...predictRequestSchema,
  properties: {
    ...predictRequestSchema.properties,
    user: {
      ...userSchema,
      description: `${userSchema.description} With \`user\`, that user's corrections adapt the answer for drawings like the ones they corrected.`,
    },
  },
} as const;

export type AdaptivePredictRequest = FromSchema<typeof adaptivePredictRequestSchema>;

export const adaptationSchema = {
  type: 'object',
  description:
    "Present when the request named a `user` whose corrections could be read: how they changed the answer. Absent when the corrections database was unavailable (the answer is the model's own).",
  required: ['corrections', 'neighbours', 'modelDigit'],
  properties: {
    corrections: { type: 'integer', description: "The user's corrections consulted." },
    neighbours: {
      type: 'integer',
      description:
        "Corrections close enough to this drawing to count; 0 means the answer is the model's own.",
    },
    modelDigit: {
      type: 'integer',
      minimum: 0,
      maximum: 9,
      description: 'What the model alone answered.',
    },
  },
} as const;

/** A recognition, with `adaptation` when a user's corrections were consulted. */
export const adaptedRecognitionSchema = {
  ...recognitionSchema,
  properties: { ...recognitionSchema.properties, adaptation: adaptationSchema },
} as const;

/** A reading of a number, each digit with `adaptation` when a user's corrections were consulted. */
export const adaptedReadingSchema = {
  ...readingSchema,
  properties: {
    ...readingSchema.properties,
    digits: {
      ...readingSchema.properties.digits,
      items: {
        ...readingSchema.properties.digits.items,
        properties: {
          ...readingSchema.properties.digits.items.properties,
          adaptation: adaptationSchema,
        },
      },
    },
  },
} as const;
