// The stand-in platform, `feishu-helpdesk mock --json --port 0`, in a child process, and its
// control interface (`/__mock/...`).
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

/** The first line `feishu-helpdesk mock --json` prints. */
export interface MockInfo {
  base_url: string;
  control_url: string;
  app_id: string;
  app_secret: string;
  tenant_access_token: string;
  helpdesk_id: string;
  helpdesk_token: string;
  user_access_token: string;
}

/** A request as the stand-in recorded it, credentials masked. */
export interface RecordedRequest {
  method: string;
  path: string;
  /** The query string as sent, without the `?` (empty if none). */
  query: string;
  headers: [string, string][];
  body: string;
  answered: number;
}

export interface Fault {
  kind: "error" | "rate_limited" | "invalid_token" | "delay" | "html";
  [detail: string]: unknown;
}

export class Mock {
  private constructor(
    readonly info: MockInfo,
    private readonly child: ChildProcess,
  ) {}

  /** Starts the binary named by `FEISHU_HELPDESK_BIN` and reads its first line. */
  static async start(): Promise<Mock> {
    const bin = process.env.FEISHU_HELPDESK_BIN;
    if (!bin) {
      throw new Error("FEISHU_HELPDESK_BIN must name the feishu-helpdesk binary (cargo build --features cli)");
    }
    const child = spawn(bin, ["mock", "--json", "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
    const lines = createInterface({ input: child.stdout! });
    const first = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${bin} mock printed nothing in 30 s`)), 30_000);
      child.once("error", reject);
      child.once("exit", (code, signal) => reject(new Error(`${bin} mock exited (${code ?? signal}) before its first line`)));
      lines.once("line", (line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
    // Later lines (if any) are read and dropped, so that the pipe never fills.
    lines.on("line", () => undefined);
    return new Mock(JSON.parse(first) as MockInfo, child);
  }

  /** SIGTERM, and waits for the process to end. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const ended = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.kill("SIGTERM");
    await ended;
  }

  /** A call of the control interface: the answer's JSON (or `undefined` for an empty body).
   *  `body` is sent as it is when it is a string (to keep a large integer exact). */
  async control(method: string, path: string, body?: unknown): Promise<unknown> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = typeof body === "string" ? body : JSON.stringify(body);
      init.headers = { "Content-Type": "application/json" };
    }
    const answer = await fetch(`${this.info.control_url}${path}`, init);
    const text = await answer.text();
    if (!answer.ok) {
      throw new Error(`${method} ${path}: HTTP ${answer.status}: ${text}`);
    }
    return text === "" ? undefined : JSON.parse(text);
  }

  addTicket(ticketId: string, guestName: string): Promise<unknown> {
    return this.control("POST", "/tickets", { ticket_id: ticketId, guest_name: guestName });
  }

  customerWrites(ticketId: string, text: string): Promise<unknown> {
    return this.control("POST", `/tickets/${encodeURIComponent(ticketId)}/customer_messages`, { text });
  }

  async ticketMessages(ticketId: string): Promise<Record<string, unknown>[]> {
    return (await this.control("GET", `/tickets/${encodeURIComponent(ticketId)}/messages`)) as Record<string, unknown>[];
  }

  fault(fault: Fault, operation?: string): Promise<unknown> {
    return this.control("POST", "/faults", operation === undefined ? { fault } : { operation, fault });
  }

  /** Every later call of `operation` answers `data` (a JSON text is sent as it is). */
  answer(operation: string, data: unknown): Promise<unknown> {
    return this.control("PUT", `/answers/${operation}`, data);
  }

  async requests(): Promise<RecordedRequest[]> {
    return (await this.control("GET", "/requests")) as RecordedRequest[];
  }

  reset(): Promise<unknown> {
    return this.control("POST", "/reset");
  }
}

/** The values of header `name` (lower-case) in a recorded request. */
export function headerValues(request: RecordedRequest, name: string): string[] {
  return request.headers.filter(([n]) => n === name).map(([, value]) => value);
}
