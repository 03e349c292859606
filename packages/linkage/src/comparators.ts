// String comparators used to grade field agreement. All work on UTF-16 code units; callers
// pass normalized upper-case ASCII, so code units are characters.

/**
 * Jaro similarity (Jaro 1989): matches within a window of ⌊max(|a|,|b|)/2⌋−1, minus half
 * the transpositions. 1 for equal strings, 0 when nothing matches or either is empty.
 */
export function jaro(a: string, b: string): number {
  if (a === b) return a.length === 0 ? 0 : 1;
  const la = a.length;
  const lb = b.length;
  if (la === 0 || lb === 0) return 0;
  const window = Math.max(0, Math.floor(Math.max(la, lb) / 2) - 1);
  const aMatched = new Uint8Array(la);
  const bMatched = new Uint8Array(lb);
  let matches = 0;
  for (let i = 0; i < la; i++) {
    const from = Math.max(0, i - window);
    const to = Math.min(lb - 1, i + window);
    for (let j = from; j <= to; j++) {
      if (bMatched[j] === 0 && a.charCodeAt(i) === b.charCodeAt(j)) {
        aMatched[i] = 1;
        bMatched[j] = 1;
        matches++;
        break;
      }
    }
  }
  if (matches === 0) return 0;
  let transpositions = 0;
  let k = 0;
  for (let i = 0; i < la; i++) {
    if (aMatched[i] === 0) continue;
    while (bMatched[k] === 0) k++;
    if (a.charCodeAt(i) !== b.charCodeAt(k)) transpositions++;
    k++;
  }
  return (matches / la + matches / lb + (matches - transpositions / 2) / matches) / 3;
}

/**
 * Jaro-Winkler similarity (Winkler 1990): Jaro plus a bonus of `prefixScale` per agreeing
 * leading character (at most 4), applied as in most record-linkage toolkits to every pair.
 */
export function jaroWinkler(a: string, b: string, prefixScale = 0.1): number {
  const j = jaro(a, b);
  let prefix = 0;
  const max = Math.min(4, a.length, b.length);
  while (prefix < max && a.charCodeAt(prefix) === b.charCodeAt(prefix)) prefix++;
  return j + prefix * prefixScale * (1 - j);
}

/** Levenshtein distance: insertions, deletions and substitutions, each cost 1. */
export function levenshtein(a: string, b: string): number {
  return editDistance(a, b, false);
}

/**
 * Damerau-Levenshtein distance in its optimal-string-alignment form: Levenshtein plus the
 * transposition of two adjacent characters at cost 1 (a substring is edited at most once,
 * so `CA`→`ABC` is 3, not 2). This is the variant record-linkage toolkits use for typos.
 */
export function damerauLevenshtein(a: string, b: string): number {
  return editDistance(a, b, true);
}

function editDistance(a: string, b: string, transpositions: boolean): number {
  if (a === b) return 0;
  const la = a.length;
  const lb = b.length;
  if (la === 0) return lb;
  if (lb === 0) return la;
  // Three rolling rows: the one before the previous is needed for transpositions.
  let prev2 = new Uint32Array(lb + 1);
  let prev = new Uint32Array(lb + 1);
  let row = new Uint32Array(lb + 1);
  for (let j = 0; j <= lb; j++) prev[j] = j;
  for (let i = 1; i <= la; i++) {
    row[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= lb; j++) {
      const cb = b.charCodeAt(j - 1);
      const cost = ca === cb ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (transpositions && i > 1 && j > 1 && ca === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === cb) {
        d = Math.min(d, prev2[j - 2]! + 1);
      }
      row[j] = d;
    }
    [prev2, prev, row] = [prev, row, prev2];
  }
  return prev[lb]!;
}

const VOWELS = new Set(["A", "E", "I", "O", "U"]);
const isVowel = (c: string | undefined): boolean => c !== undefined && VOWELS.has(c);

/**
 * NYSIIS phonetic code (Taft 1970, New York State Identification and Intelligence System),
 * without the optional truncation to six characters. Input: letters A–Z (others ignored).
 * Same-sounding spellings share a code: KATHERINE, CATHERINE, KATERINA → CATARAN.
 */
export function nysiis(name: string): string {
  let s = name.toUpperCase().replace(/[^A-Z]/g, "");
  if (s.length === 0) return "";
  // Step 1: first letters.
  if (s.startsWith("MAC")) s = "MCC" + s.slice(3);
  else if (s.startsWith("KN")) s = "NN" + s.slice(2);
  else if (s.startsWith("K")) s = "C" + s.slice(1);
  else if (s.startsWith("PH") || s.startsWith("PF")) s = "FF" + s.slice(2);
  else if (s.startsWith("SCH")) s = "SSS" + s.slice(3);
  // Step 2: last letters.
  if (s.endsWith("EE") || s.endsWith("IE")) s = s.slice(0, -2) + "Y";
  else if (/(DT|RT|RD|NT|ND)$/.test(s)) s = s.slice(0, -2) + "D";
  // Step 3: the key starts with the first letter; step 4 translates the rest.
  let key = s[0]!;
  for (let i = 1; i < s.length; i++) {
    const c = s[i]!;
    const next = s[i + 1];
    let out: string;
    if (c === "E" && next === "V") {
      out = "AF";
      i++;
    } else if (isVowel(c)) out = "A";
    else if (c === "Q") out = "G";
    else if (c === "Z") out = "S";
    else if (c === "M") out = "N";
    else if (c === "K") out = next === "N" ? "N" : "C";
    else if (c === "S" && s.slice(i + 1, i + 3) === "CH") {
      out = "SSS";
      i += 2;
    } else if (c === "P" && next === "H") {
      out = "FF";
      i++;
    } else if (c === "H" && (!isVowel(s[i - 1]) || !isVowel(next))) {
      out = isVowel(s[i - 1]) ? "A" : s[i - 1]!;
    } else if (c === "W" && isVowel(s[i - 1])) out = "A";
    else out = c;
    // Append, collapsing a repeat of the key's last letter.
    for (const ch of out) if (ch !== key[key.length - 1]) key += ch;
  }
  // Steps 5–7: trailing S, AY → Y, trailing A.
  if (key.length > 1 && key.endsWith("S")) key = key.slice(0, -1);
  if (key.endsWith("AY")) key = key.slice(0, -2) + "Y";
  if (key.length > 1 && key.endsWith("A")) key = key.slice(0, -1);
  return key;
}
