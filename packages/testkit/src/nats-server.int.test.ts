import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { connect, type NatsConnection } from "nats";
import { afterEach, describe, expect, it } from "vitest";
import { startNatsCluster, startNatsServer, type TestNatsServer } from "./nats-server.js";
import { uniqueName } from "./unique-name.js";

function versionAtLeast(version: string, major: number, minor: number): boolean {
  const [ma = 0, mi = 0] = version.split(".").map(Number);
  return ma > major || (ma === major && mi >= minor);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("startNatsServer", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((c) => c()));
  });
  const track = (s: TestNatsServer): TestNatsServer => {
    cleanups.push(() => s.stop());
    return s;
  };

  it("runs the current server (>= 2.10) with JetStream and stops it cleanly", async () => {
    const server = await startNatsServer({ syncInterval: "always" });
    const nc = await connect({ servers: server.url });
    expect(versionAtLeast(nc.info?.version ?? "0.0", 2, 10)).toBe(true);
    expect(nc.info?.jetstream).toBe(true);
    const info = await (await nc.jetstreamManager()).getAccountInfo();
    expect(info.streams).toBe(0);
    await nc.close();

    const { pid, storeDir } = server;
    expect(isRunning(pid)).toBe(true);
    await server.stop();
    expect(isRunning(pid)).toBe(false);
    expect(existsSync(dirname(storeDir))).toBe(false);
  });

  it("keeps JetStream data across kill -9 and restart", async () => {
    const server = track(await startNatsServer({ syncInterval: "always" }));
    const stream = uniqueName("restart");
    let nc: NatsConnection = await connect({ servers: server.url });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
    await nc.jetstream().publish(`${stream}.a`, new TextEncoder().encode("one"));
    await nc.close();

    const before = server.pid;
    await server.kill();
    expect(isRunning(before)).toBe(false);
    await server.restart();
    expect(server.pid).not.toBe(before);

    nc = await connect({ servers: server.url });
    const info = await (await nc.jetstreamManager()).streams.info(stream);
    expect(info.state.messages).toBe(1);
    await nc.close();
  });

  it("freezes a node with SIGSTOP and thaws it with SIGCONT", async () => {
    const server = track(await startNatsServer({ jetstream: false }));
    await server.kill("SIGSTOP");
    expect(isRunning(server.pid)).toBe(true);
    await expect(connect({ servers: server.url, timeout: 500, reconnect: false })).rejects.toThrow();
    await server.kill("SIGCONT");
    const nc = await connect({ servers: server.url, timeout: 2000 });
    await nc.close();

    // A frozen node still stops promptly (stop() thaws it so it can act on SIGTERM).
    await server.kill("SIGSTOP");
    const started = Date.now();
    await server.stop();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(isRunning(server.pid)).toBe(false);
  });

  it("runs the system server when asked", async () => {
    const server = track(await startNatsServer({ version: "system", jetstream: false }));
    const nc = await connect({ servers: server.url });
    expect(nc.info?.jetstream ?? false).toBe(false);
    expect(nc.info?.version).toMatch(/^\d+\.\d+\.\d+/);
    await nc.close();
  });

  it("reports a config the server rejects, with the log", async () => {
    await expect(startNatsServer({ extraConfig: "this is { not valid" })).rejects.toThrow(/nats-server/);
  });
});

describe("startNatsCluster", () => {
  it("elects a meta leader and accepts an R3 stream", async () => {
    const cluster = await startNatsCluster({ size: 3 });
    try {
      expect(cluster.urls).toHaveLength(3);
      const nc = await connect({ servers: cluster.urls });
      try {
        const jsm = await nc.jetstreamManager();
        const name = uniqueName("r3");
        const info = await jsm.streams.add({ name, subjects: [`${name}.>`], num_replicas: 3 });
        expect(info.config.num_replicas).toBe(3);
        const names = cluster.servers.map((s) => s.serverName);
        // The stream leader may be elected just after creation.
        let current = info;
        for (let i = 0; i < 50 && !current.cluster?.leader; i++) {
          await new Promise((r) => setTimeout(r, 100));
          current = await jsm.streams.info(name);
        }
        expect(names).toContain(current.cluster?.leader);
        expect(current.cluster?.replicas).toHaveLength(2);
        const ack = await nc.jetstream().publish(`${name}.x`, new TextEncoder().encode("r3"));
        expect(ack.seq).toBe(1);
      } finally {
        await nc.close();
      }
    } finally {
      await cluster.stop();
    }
  });
});
