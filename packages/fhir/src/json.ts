import { ConversionError } from "@hix/proto";

/**
 * Parses FHIR JSON text. A leading UTF-8 BOM is dropped (several published examples
 * carry one). A syntax error becomes a ConversionError located by line and column;
 * the engine's own message is not passed on because it quotes the surrounding text,
 * which may be PHI.
 */
export function parseFhirJson(text: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body) as unknown;
  } catch (err) {
    const offset = errorOffset(err, body);
    const { line, column } = lineAndColumn(body, offset);
    throw new ConversionError(
      "fhir.invalid_json",
      `line ${line} column ${column}`,
      `not valid JSON (syntax error at character ${offset + 1} of ${body.length})`,
      { cause: err },
    );
  }
}

/** The 0-based character offset V8 reports ("at position 91542"); end of input when it names none. */
function errorOffset(err: unknown, text: string): number {
  const message = err instanceof Error ? err.message : "";
  const match = /position (\d+)/.exec(message);
  if (match?.[1] !== undefined) return Math.min(Number(match[1]), text.length);
  const lineCol = /line (\d+) column (\d+)/.exec(message);
  if (lineCol?.[1] !== undefined && lineCol[2] !== undefined) {
    return offsetOf(text, Number(lineCol[1]), Number(lineCol[2]));
  }
  return text.length;
}

/** 1-based line and column of a 0-based offset; CR LF and LF both end a line. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function offsetOf(text: string, line: number, column: number): number {
  let current = 1;
  let i = 0;
  while (current < line && i < text.length) {
    if (text.charCodeAt(i) === 10) current++;
    i++;
  }
  return Math.min(i + column - 1, text.length);
}
