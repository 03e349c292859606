export { main } from "./main.js";
export { EXIT, UsageError, type Command, type CommandIo } from "./command.js";
