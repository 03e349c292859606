import { defineConfig } from "vitest/config";

// One test run for the whole tree. Workspace packages resolve to their TypeScript
// sources through the "@hix/source" export condition, so tests need no build step.
// Integration tests (*.int.test.ts) talk to real NATS JetStream and PostgreSQL
// found by @hix/testkit (environment, then localhost, then testcontainers).
export default defineConfig({
  resolve: { conditions: ["@hix/source"] },
  ssr: { resolve: { conditions: ["@hix/source"], externalConditions: ["@hix/source"] } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["packages/*/src/**/*.test.ts", "services/*/src/**/*.test.ts"],
          exclude: ["**/*.int.test.ts", "**/node_modules/**"],
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: [
            "packages/*/src/**/*.int.test.ts",
            "services/*/src/**/*.int.test.ts",
            "tests/**/*.test.ts",
          ],
          exclude: ["**/node_modules/**"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
