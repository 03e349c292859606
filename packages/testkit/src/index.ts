export { TestkitError } from "./errors.js";
export { fixturePath } from "./fixture-path.js";
export {
  currentNatsServerBinary,
  freePort,
  startNatsCluster,
  startNatsServer,
  waitForJetStream,
  type StartNatsServerOptions,
  type TestNatsCluster,
  type TestNatsServer,
} from "./nats-server.js";
export { natsAnswers, natsUrl, postgresUrl } from "./services.js";
export { createTestDatabase, type TestDatabase } from "./test-database.js";
export { uniqueName } from "./unique-name.js";
