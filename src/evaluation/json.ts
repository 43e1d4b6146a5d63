/** JSON output that people read too. */

const NUMBER_LIST = /\[\n\s+((?:-?[\d.e+-]+|null)(?:,\n\s+(?:-?[\d.e+-]+|null))*)\n\s*\]/g;

/** JSON with two-space indents, but lists of numbers on one line (confusion-matrix rows). */
export function formatJson(value: unknown): string {
  return (
    JSON.stringify(value, null, 2).replace(
      NUMBER_LIST,
      (_, items: string) => `[${items.replace(/,\n\s+/g, ', ')}]`,
    ) + '\n'
  );
}
