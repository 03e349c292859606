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
  // Older V8 ("Unexpected token 'S', ..."x"... is not valid JSON") names no position: find it.
  return firstSyntaxError(text);
}

class SyntaxAt extends Error {
  override name = "SyntaxAt";
  constructor(readonly offset: number) {
    super(`JSON syntax error at ${offset}`);
  }
}

/**
 * Offset of the first JSON syntax error (RFC 8259 grammar), for error reports only:
 * called after JSON.parse has failed, so speed does not matter.
 */
export function firstSyntaxError(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i] ?? "")) i++;
  };
  const fail = (): never => {
    throw new SyntaxAt(i);
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail();
  };
  const string = () => {
    i++; // opening quote
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        return;
      }
      if (c < 32) fail();
      if (c === 92) {
        const e = text[i + 1] ?? "";
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            i += 2;
            fail();
          }
          i += 6;
          continue;
        }
        if (!'"\\/bfnrt'.includes(e) || e === "") {
          i++;
          fail();
        }
        i += 2;
        continue;
      }
      i++;
    }
    fail();
  };
  const number = () => {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === "" || m[0] === "-") fail();
    i += m?.[0].length ?? 0;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ":") fail();
        i++;
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return;
        }
        fail();
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return;
        }
        fail();
      }
    }
    if (c === '"') return string();
    if (c === "t") return literal("true");
    if (c === "f") return literal("false");
    if (c === "n") return literal("null");
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return number();
    fail();
  };
  try {
    value();
    ws();
    return i < text.length ? i : text.length;
  } catch (err) {
    if (err instanceof SyntaxAt) return Math.min(err.offset, text.length);
    throw err;
  }
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
