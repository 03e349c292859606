import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";

/** Folder holding `hix/v1/*.proto` (the repository's proto/), from src/ or dist/ alike. */
export const PROTO_DIR = fileURLToPath(new URL("../../../proto", import.meta.url));

let cached: Promise<protobuf.Root> | undefined;

/**
 * The contract loaded by reflection (protobufjs over the .proto files), for tools that
 * decode traffic by type name — `hix tail`, `hix dlq show` — without generated code for
 * every type. Field names stay as written in the .proto (snake_case).
 */
export function loadContract(): Promise<protobuf.Root> {
  cached ??= (async () => {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) =>
      target.startsWith("google/") ? target : `${PROTO_DIR}/${target}`;
    const files = readdirSync(`${PROTO_DIR}/hix/v1`)
      .filter((f) => f.endsWith(".proto"))
      .map((f) => `hix/v1/${f}`);
    await root.load(files, { keepCase: true });
    return root;
  })();
  return cached;
}

/** Decodes bytes as the named message type into a plain object (enums as names, 64-bit ints as strings). */
export async function decodeByTypeName(
  typeName: string,
  bytes: Uint8Array,
): Promise<Record<string, unknown>> {
  const root = await loadContract();
  const type = root.lookupType(typeName);
  return type.toObject(type.decode(bytes), {
    enums: String,
    longs: String,
    bytes: String,
    oneofs: true,
    defaults: false,
  });
}
