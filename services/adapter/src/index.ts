// @hix/adapter: the runtime for one facility. Run it with `pnpm --filter @hix/adapter start`
// (src/main.ts); tests and embedders use `start(deps)`.
export { start, type AdapterDeps, type RunningAdapter } from "./app.js";
export { adapterConfigSchema, type AdapterConfig } from "./config.js";
export { AdapterPublishError, busSubmit, outboundHandler } from "./pipeline.js";
