import { fileURLToPath } from "node:url";

/**
 * The repository root: this file sits in packages/testkit/src (sources) or
 * packages/testkit/dist (build), so three levels up either way.
 */
export const repoRoot: string = fileURLToPath(new URL("../../../", import.meta.url)).replace(/\/$/, "");
