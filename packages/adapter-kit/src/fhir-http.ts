/**
 * The FHIR R4 HTTP endpoint (node:http): POST a Bundle (or a single resource) to `/` or
 * `/Bundle`, get 200 with a `transaction-response`-style answer naming the envelope ids, or
 * a 4xx with an OperationOutcome saying what is wrong and where (FHIR R4 §3.1.0.1.7 / §2.21.0.10).
 * Content is never echoed back or logged.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { ConversionError } from "@hix/proto";
import type { DocumentResult } from "./intake.js";
import { AdapterError } from "./intake.js";

export interface FhirEndpointOptions {
  readonly host?: string;
  readonly port: number;
  readonly maxBytes: number;
  readonly handle: (text: string, source: string) => Promise<DocumentResult>;
}

export interface FhirEndpoint {
  readonly port: number;
  close(): Promise<void>;
}

type IssueCode =
  "invalid" | "structure" | "too-costly" | "not-supported" | "transient" | "exception" | "business-rule";

function outcome(
  severity: "error" | "information",
  code: IssueCode,
  diagnostics: string,
  expression?: string,
): unknown {
  return {
    resourceType: "OperationOutcome",
    issue: [
      { severity, code, diagnostics, ...(expression === undefined ? {} : { expression: [expression] }) },
    ],
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/fhir+json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

async function readBody(req: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export async function startFhirEndpoint(options: FhirEndpointOptions): Promise<FhirEndpoint> {
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? "/").split("?")[0];
      if (req.method === "GET" && path === "/metadata") {
        send(res, 200, {
          resourceType: "CapabilityStatement",
          status: "active",
          kind: "instance",
          fhirVersion: "4.0.1",
          format: ["json"],
          rest: [{ mode: "server", resource: [{ type: "Bundle", interaction: [{ code: "create" }] }] }],
        });
        return;
      }
      if (req.method !== "POST" || (path !== "/" && path !== "/Bundle")) {
        send(res, 405, outcome("error", "not-supported", "POST a FHIR R4 Bundle to / or /Bundle"));
        return;
      }
      const type = req.headers["content-type"] ?? "";
      if (!/json/.test(type)) {
        send(res, 415, outcome("error", "not-supported", "content-type must be application/fhir+json"));
        return;
      }
      const text = await readBody(req, options.maxBytes);
      if (text === undefined) {
        send(res, 413, outcome("error", "too-costly", `request body over ${options.maxBytes} bytes`));
        return;
      }
      try {
        const result = await options.handle(text, `fhir-http:${req.socket.remoteAddress ?? "?"}`);
        send(res, 200, {
          resourceType: "OperationOutcome",
          issue: [
            {
              severity: "information",
              code: "informational",
              diagnostics: `accepted as ${result.envelopeIds.length} message(s)${result.duplicates > 0 ? `, ${result.duplicates} already received` : ""}: ${result.envelopeIds.join(", ")}`,
            },
            ...result.warnings.map((w) => ({
              severity: "warning",
              code: "informational",
              diagnostics: `${w.code}: ${w.message}`,
              expression: [w.location],
            })),
          ],
        });
      } catch (err) {
        if (err instanceof ConversionError) {
          send(res, 400, outcome("error", "invalid", `${err.code}: ${err.message}`, err.location));
        } else if (err instanceof AdapterError && !err.retryable) {
          send(res, 422, outcome("error", "business-rule", `${err.code}: ${err.message}`));
        } else {
          // Not stored (bus down): 503 so the client retries; nothing was half-accepted.
          send(
            res,
            503,
            outcome("error", "transient", "the exchange could not store the bundle; retry later"),
          );
        }
      }
    })().catch(() => {
      if (!res.headersSent) send(res, 500, outcome("error", "exception", "internal error"));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address !== null ? address.port : options.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
