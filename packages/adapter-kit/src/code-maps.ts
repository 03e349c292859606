/**
 * Local code → standard code (e.g. a lab's own test codes → LOINC), from the facility
 * profile's `codeMaps`. Applied to every `Code` in the canonical bodies: a Code whose
 * (system, code) has an entry is replaced by the target; others pass unchanged.
 */
import type { Code, Conversion } from "@hix/proto";

export type CodeMaps = Readonly<
  Record<string, Readonly<Record<string, { system: string; code: string; display?: string | undefined }>>>
>;

function isCode(value: object): value is Code {
  const v = value as Record<string, unknown>;
  return (
    typeof v["system"] === "string" &&
    typeof v["code"] === "string" &&
    typeof v["display"] === "string" &&
    typeof v["version"] === "string" &&
    Object.keys(v).length === 4
  );
}

/** Returns a conversion whose codes are mapped; the input is not changed. */
export function applyCodeMaps(conversion: Conversion, maps: CodeMaps): Conversion {
  if (Object.keys(maps).length === 0) return conversion;
  const visit = (value: unknown): unknown => {
    if (value === null || typeof value !== "object") return value;
    if (value instanceof Date || value instanceof Uint8Array) return value;
    if (Array.isArray(value)) return value.map(visit);
    if (isCode(value)) {
      const target = maps[value.system]?.[value.code];
      if (target !== undefined) {
        return {
          system: target.system,
          code: target.code,
          display: target.display ?? value.display,
          version: "",
        };
      }
      return value;
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = visit(v);
    return out;
  };
  return { bodies: visit(conversion.bodies) as Conversion["bodies"], warnings: conversion.warnings };
}
