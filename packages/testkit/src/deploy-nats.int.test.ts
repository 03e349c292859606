import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { AckPolicy, connect, StringCodec, type NatsConnection, type StreamInfo } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { currentNatsServerBinary, freePort, startNatsServer, type TestNatsServer } from "./nats-server.js";
import { repoRoot } from "./repo-root.js";

// The configs operators deploy (deploy/nats/) must be valid for the current server and must
// enforce what deploy/README.md promises: a facility publishes only hix.in.<facility>.> and
// consumes only its own hix.out.<facility>.> consumer, directly or through its edge leaf node.

const deployDir = join(repoRoot, "deploy", "nats");
const sc = StringCodec();
const PASSWORDS = {
  HIX_NATS_SYS_PASSWORD: "t-sys",
  HIX_NATS_ROUTER_PASSWORD: "t-router",
  HIX_NATS_RECONCILER_PASSWORD: "t-reconciler",
  HIX_NATS_OPS_PASSWORD: "t-ops",
  HIX_NATS_CLINIC_A_PASSWORD: "t-clinic-a",
  HIX_NATS_HOSPITAL_B_PASSWORD: "t-hospital-b",
  HIX_NATS_LEAF_ADAPTER_PASSWORD: "t-adapter",
  HIX_NATS_LEAF_SYS_PASSWORD: "t-leaf-sys",
  HIX_NATS_HUB_LEAF_URL: "nats-leaf://clinic_a:t-clinic-a@127.0.0.1:1",
};

/** Replaces each `from` exactly once, so a changed deploy config fails here loudly. */
function rewrite(text: string, pairs: Array<[string | RegExp, string]>): string {
  return pairs.reduce((out, [from, to]) => {
    const hits =
      typeof from === "string"
        ? out.split(from).length - 1
        : (out.match(new RegExp(from.source, `${from.flags}g`)) ?? []).length;
    if (hits !== 1) throw new Error(`expected one ${String(from)} in the deploy config, found ${hits}`);
    return out.replace(from, to);
  }, text);
}

describe("deploy/nats configs", () => {
  it("all pass the current server's config test (-t)", async () => {
    const binary = await currentNatsServerBinary();
    const files = readdirSync(deployDir).filter((f) => f.endsWith(".conf"));
    expect(files.sort()).toEqual([
      "accounts.conf",
      "cluster-node-1.conf",
      "cluster-node-2.conf",
      "cluster-node-3.conf",
      "leaf.conf",
      "single.conf",
    ]);
    for (const file of files) {
      const { stderr } = await promisify(execFile)(binary, ["-t", "-c", join(deployDir, file)], {
        env: { ...process.env, ...PASSWORDS },
      });
      expect(stderr).toContain("is valid");
    }
  });

  describe("single hub + clinic_a leaf", () => {
    let dir: string;
    let hub: TestNatsServer;
    let leaf: TestNatsServer;
    const conns: NatsConnection[] = [];
    const open = async (server: TestNatsServer, user: string, pass: string): Promise<NatsConnection> => {
      const nc = await connect({ servers: server.url, user, pass });
      conns.push(nc);
      return nc;
    };

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "hix-deploy-"));
      copyFileSync(join(deployDir, "accounts.conf"), join(dir, "accounts.conf"));
      const [hubPort, leafnodePort, leafPort] = [await freePort(), await freePort(), await freePort()];
      writeFileSync(
        join(dir, "hub.conf"),
        rewrite(readFileSync(join(deployDir, "single.conf"), "utf8"), [
          ["listen: 0.0.0.0:4222", `listen: 127.0.0.1:${hubPort}`],
          [/^http: .*$/m, ""],
          ["/var/lib/nats/jetstream", join(dir, "hub-js")],
          ["listen: 0.0.0.0:7422", `listen: 127.0.0.1:${leafnodePort}`],
        ]),
      );
      writeFileSync(
        join(dir, "leaf.conf"),
        rewrite(readFileSync(join(deployDir, "leaf.conf"), "utf8"), [
          ["listen: 127.0.0.1:4222", `listen: 127.0.0.1:${leafPort}`],
          [/^http: .*$/m, ""],
          ["/var/lib/nats/jetstream", join(dir, "leaf-js")],
        ]),
      );
      const env = {
        ...PASSWORDS,
        HIX_NATS_HUB_LEAF_URL: `nats-leaf://clinic_a:t-clinic-a@127.0.0.1:${leafnodePort}`,
      };
      hub = await startNatsServer({ configFile: join(dir, "hub.conf"), port: hubPort, env });
      leaf = await startNatsServer({ configFile: join(dir, "leaf.conf"), port: leafPort, env });

      const ops = await open(hub, "ops", PASSWORDS.HIX_NATS_OPS_PASSWORD);
      const jsm = await ops.jetstreamManager();
      await jsm.streams.add({ name: "HIX_IN", subjects: ["hix.in.>"] });
      await jsm.streams.add({ name: "HIX_OUT", subjects: ["hix.out.>"] });
      for (const facility of ["clinic_a", "hospital_b"]) {
        await jsm.consumers.add("HIX_OUT", {
          durable_name: facility,
          filter_subject: `hix.out.${facility}.>`,
          ack_policy: AckPolicy.Explicit,
        });
      }
      const router = await open(hub, "router", PASSWORDS.HIX_NATS_ROUTER_PASSWORD);
      await router.jetstream().publish("hix.out.clinic_a.transfer", sc.encode("for clinic_a"));
      await router.jetstream().publish("hix.out.hospital_b.transfer", sc.encode("for hospital_b"));
    });
    afterAll(async () => {
      await Promise.all(conns.map((c) => c.close()));
      await Promise.all([leaf?.stop(), hub?.stop()]);
      rmSync(dir, { recursive: true, force: true });
    });

    const hixInMessages = async (): Promise<string[]> => {
      const ops = await open(hub, "ops", PASSWORDS.HIX_NATS_OPS_PASSWORD);
      const jsm = await ops.jetstreamManager();
      const { state } = await jsm.streams.info("HIX_IN");
      const subjects: string[] = [];
      for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
        subjects.push((await jsm.streams.getMessage("HIX_IN", { seq })).subject);
      }
      return subjects;
    };

    it("lets a facility publish its own inbound subjects with a JetStream ack, and no other's", async () => {
      const fac = await open(hub, "clinic_a", PASSWORDS.HIX_NATS_CLINIC_A_PASSWORD);
      const ack = await fac.jetstream().publish("hix.in.clinic_a.referral", sc.encode("r"));
      expect(ack.stream).toBe("HIX_IN");
      await expect(
        fac.jetstream().publish("hix.in.hospital_b.referral", sc.encode("x"), { timeout: 1000 }),
      ).rejects.toThrow(/Permissions Violation/);
      expect(await hixInMessages()).not.toContain("hix.in.hospital_b.referral");
    });

    it("lets a facility pull and ack only its own consumer on HIX_OUT", async () => {
      const fac = await open(hub, "clinic_a", PASSWORDS.HIX_NATS_CLINIC_A_PASSWORD);
      const js = fac.jetstream({ apiPrefix: "HUB.API" });
      const consumer = await js.consumers.get("HIX_OUT", "clinic_a");
      const msg = await consumer.next({ expires: 2000 });
      expect(msg?.subject).toBe("hix.out.clinic_a.transfer");
      expect(await msg?.ackAck()).toBe(true);
      expect(await consumer.next({ expires: 1000 })).toBeNull();
      await expect(js.consumers.get("HIX_OUT", "hospital_b")).rejects.toThrow(/Permissions Violation/);
    });

    it("carries the adapter's publishes from the edge leaf into the hub's HIX_IN", async () => {
      const adapter = await open(leaf, "adapter", PASSWORDS.HIX_NATS_LEAF_ADAPTER_PASSWORD);
      // The leaf connects asynchronously; retry until the link is up.
      let ack: { stream: string } | undefined;
      for (let i = 0; i < 50 && !ack; i++) {
        ack = await adapter
          .jetstream()
          .publish("hix.in.clinic_a.viaLeaf", sc.encode("edge"), { timeout: 500, msgID: "edge-1" })
          .catch(() => undefined);
      }
      expect(ack?.stream).toBe("HIX_IN");
      await expect(
        adapter.request("hix.in.hospital_b.viaLeaf", sc.encode("x"), { timeout: 1000 }),
      ).rejects.toThrow();
      const subjects = await hixInMessages();
      expect(subjects).toContain("hix.in.clinic_a.viaLeaf");
      expect(subjects).not.toContain("hix.in.hospital_b.viaLeaf");
    });
  });

  describe("3-node hub cluster", () => {
    let dir: string;
    let nodes: TestNatsServer[] = [];
    let ops: NatsConnection | undefined;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "hix-deploy-cluster-"));
      copyFileSync(join(deployDir, "accounts.conf"), join(dir, "accounts.conf"));
      const clientPorts = [await freePort(), await freePort(), await freePort()];
      const routePorts = [await freePort(), await freePort(), await freePort()];
      const leafPorts = [await freePort(), await freePort(), await freePort()];
      const started = clientPorts.map((port, i) => {
        const file = join(dir, `node-${i + 1}.conf`);
        writeFileSync(
          file,
          rewrite(readFileSync(join(deployDir, `cluster-node-${i + 1}.conf`), "utf8"), [
            ["listen: 0.0.0.0:4222", `listen: 127.0.0.1:${port}`],
            [/^http: .*$/m, ""],
            ["/var/lib/nats/jetstream", join(dir, `js-${i + 1}`)],
            ["listen: 0.0.0.0:6222", `listen: 127.0.0.1:${routePorts[i]}`],
            ["nats-route://hub-1:6222", `nats-route://127.0.0.1:${routePorts[0]}`],
            ["nats-route://hub-2:6222", `nats-route://127.0.0.1:${routePorts[1]}`],
            ["nats-route://hub-3:6222", `nats-route://127.0.0.1:${routePorts[2]}`],
            ["listen: 0.0.0.0:7422", `listen: 127.0.0.1:${leafPorts[i]}`],
          ]),
        );
        return startNatsServer({ configFile: file, port, env: PASSWORDS });
      });
      nodes = await Promise.all(started);
      ops = await connect({
        servers: nodes.map((n) => n.url),
        user: "ops",
        pass: PASSWORDS.HIX_NATS_OPS_PASSWORD,
      });
      // Wait for the JetStream meta leader.
      for (let i = 0; i < 100; i++) {
        const ok = await (
          await ops.jetstreamManager({ checkAPI: false })
        )
          .getAccountInfo()
          .then(() => true)
          .catch(() => false);
        if (ok) break;
        await new Promise((r) => setTimeout(r, 200));
      }
    });
    afterAll(async () => {
      await ops?.close();
      await Promise.all(nodes.map((n) => n.stop()));
      rmSync(dir, { recursive: true, force: true });
    });

    it("holds an R3 stream and keeps accepting writes with one node down", async () => {
      if (!ops) throw new Error("no connection");
      const jsm = await ops.jetstreamManager();
      // The meta leader may be elected before it knows all three peers; R3 placement then
      // fails for a moment ("insufficient resources").
      let info: StreamInfo | undefined;
      for (let i = 0; i < 50 && !info; i++) {
        info = await jsm.streams
          .add({ name: "HIX_IN", subjects: ["hix.in.>"], num_replicas: 3 })
          .catch(() => new Promise<undefined>((r) => setTimeout(() => r(undefined), 200)));
      }
      if (!info) throw new Error("R3 stream could not be placed within 10 s");
      expect(info.config.num_replicas).toBe(3);
      const js = ops.jetstream();
      expect((await js.publish("hix.in.clinic_a.one", sc.encode("1"))).seq).toBe(1);

      // Take down the stream's leader: the other two must elect a new one and go on.
      let leader = (await jsm.streams.info("HIX_IN")).cluster?.leader;
      for (let i = 0; i < 50 && !leader; i++) {
        await new Promise((r) => setTimeout(r, 100));
        leader = (await jsm.streams.info("HIX_IN")).cluster?.leader;
      }
      const down = nodes[Number(leader?.replace("hub-", "")) - 1];
      expect(down).toBeDefined();
      await down?.kill();
      let seq = 0;
      let lastError: unknown;
      const deadline = Date.now() + 20_000;
      while (seq === 0 && Date.now() < deadline) {
        seq = await js
          .publish("hix.in.clinic_a.two", sc.encode("2"), { msgID: "two", timeout: 2000 })
          .then((a) => a.seq)
          .catch((err: unknown) => {
            lastError = err;
            return 0;
          });
        if (seq === 0) await new Promise((r) => setTimeout(r, 250));
      }
      expect(seq, String(lastError)).toBe(2);
      await down?.restart();
    });
  });
});
