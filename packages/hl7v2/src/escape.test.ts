import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DATA_ROOT } from "./corpus.test-util.js";
import { DEFAULT_DELIMITERS } from "./delimiters.js";
import { escapeValue, unescapeValue } from "./escape.js";
import { parse } from "./parse.js";

const table = JSON.parse(readFileSync(`${DATA_ROOT}hl7v2-nhapi/escape-testcases.json`, "utf8")) as {
  pairs: [string, string][];
};
const d = DEFAULT_DELIMITERS;
// Direction of an nHapi pair: the input holds a complete escape sequence → it is an unescape case.
const isEscaped = (s: string): boolean => /\\(?:[FSTRE]|X[0-9A-F]+)\\/.test(s);

describe("escape sequences (nHapi EscapeTests.cs table)", () => {
  it("has the 16 pairs", () => expect(table.pairs.length).toBe(16));
  for (const [input, expected] of table.pairs) {
    const unescape = isEscaped(input);
    it(`${unescape ? "unescapes" : "escapes"} ${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => {
      if (unescape) {
        expect(unescapeValue(input, d)).toBe(expected);
      } else {
        expect(escapeValue(input, d)).toBe(expected);
        expect(unescapeValue(expected, d)).toBe(input);
      }
    });
  }
});

describe("escape sequences", () => {
  it.each([
    ["line\\.br\\break", "line\nbreak"],
    ["a\\.sp\\b", "a\nb"],
    ["a\\.sp 2\\b", "a\n\nb"],
    ["a\\.sk 3\\b", "a   b"],
    ["\\H\\bold\\N\\ text", "bold text"],
    ["\\.in +4\\\\.ti -2\\\\.ce\\\\.fi\\\\.nf\\x", "x"],
    ["Stra\\XC39F\\e", "Straße"],
    ["C:\\temp", "C:\\temp"], // a lone escape character stays text
    ["\\Zlocal\\", "\\Zlocal\\"], // locally defined escapes are kept verbatim
    ["\\X0\\", "\\X0\\"], // odd hex length is not an escape
    ["\\P\\", "\\P\\"], // no truncation character declared
  ])("unescapes %j", (input, expected) => expect(unescapeValue(input, d)).toBe(expected));

  it("uses the message's own escape and delimiter characters", () => {
    const custom = { ...d, field: "#", component: "!", repetition: "@", escape: "%", subcomponent: "*" };
    expect(escapeValue("a#b!c@d*e%f|g^h", custom)).toBe("a%F%b%S%c%R%d%T%e%E%f|g^h");
    expect(unescapeValue("a%F%b%S%c%R%d%T%e%E%f\\T\\", custom)).toBe("a#b!c@d*e%f\\T\\");
  });

  it("escapes the v2.7 truncation character when one is declared", () => {
    const v27 = { ...d, truncation: "#" };
    expect(escapeValue("#1", v27)).toBe("\\P\\1");
    expect(unescapeValue("\\P\\1", v27)).toBe("#1");
  });

  it("decodes every escape in rethinkhealth edge-escaped-delimiters.hl7 on read", () => {
    const msg = parse(readFileSync(`${DATA_ROOT}hl7v2-rethinkhealth-qa/edge-escaped-delimiters.hl7`, "utf8"));
    expect(msg.get("PID-5.1")).toBe("DOE&SMITH");
    expect(msg.get("PID-5.2")).toBe("JOHN^JANE");
    expect(msg.get("OBX-5")).toBe(
      "Result contains pipe | and ampersand & and caret ^ and tilde ~ and backslash \\ chars",
    );
  });

  it("turns \\.br\\ into line breaks in nHapi's FT repetitions", () => {
    const msg = parse(readFileSync(`${DATA_ROOT}hl7v2-nhapi/oru-r01-ft-linebreak-escapes.hl7`, "utf8"));
    expect(msg.getAll("OBX[2]-5")).toEqual(["This\nis\nA Test", "MoreText", "SomeMoreText"]);
    expect(msg.getAll("OBX-5").length).toBe(9);
  });
});
