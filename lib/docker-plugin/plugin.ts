// One out-of-process Docker plugin, by name: found in the plugin folders and activated on first
// use (POST /Plugin.Activate; its Implements must hold the subsystem asked for), found and
// activated again after it stopped answering (it may have restarted, elsewhere), as dockerd's
// pkg/plugins does. Shared by every subsystem that speaks to such plugins (authz, volumes).
import { PluginCallError, PluginClient } from './client.js';
import { discoverPlugin } from './discover.js';

/** dockerd's plugin client default timeout, which Plugin.Activate runs under. */
export const ACTIVATE_TIMEOUT_MS = 30_000;

export class NotImplementedError extends Error {
  constructor(readonly plugin: string, readonly implement: string, implementsList: unknown) {
    super(`Plugin.Activate: the plugin does not implement ${implement} (Implements: ${JSON.stringify(implementsList ?? null)})`);
  }
}

export class DockerPlugin {
  private client: Promise<PluginClient> | undefined;

  constructor(
    readonly name: string,
    /** The subsystem: "authz", "VolumeDriver", "NetworkDriver" … */
    readonly implement: string,
    private readonly dirs: () => readonly string[],
    private readonly activateTimeoutMs: () => number = () => ACTIVATE_TIMEOUT_MS,
  ) {}

  close(): void {
    void this.client?.then((c) => c.close(), () => undefined);
    this.client = undefined;
  }

  /** Finds and activates the plugin once; a failure is not remembered (the next use tries again). */
  activate(): Promise<PluginClient> {
    const pending = (this.client ??= (async () => {
      const client = new PluginClient(await discoverPlugin(this.name, this.dirs()));
      try {
        const answer = (await client.call('Plugin.Activate', undefined, this.activateTimeoutMs())) as { Implements?: unknown };
        if (!Array.isArray(answer?.Implements) || !answer.Implements.includes(this.implement)) {
          throw new NotImplementedError(this.name, this.implement, answer?.Implements);
        }
        return client;
      } catch (err) {
        client.close();
        throw err;
      }
    })());
    pending.catch(() => { if (this.client === pending) this.client = undefined; });
    return pending;
  }

  /**
   * POST /method with args; resolves with the plugin's JSON answer (its `Err` is the caller's to
   * read: see answerError). When the plugin did not answer, the next call finds it again.
   */
  async call(method: string, args: unknown, timeoutMs: number): Promise<unknown> {
    const client = await this.activate();
    try {
      return await client.call(method, args, timeoutMs);
    } catch (err) {
      if (!(err instanceof PluginCallError) || err.transport) this.close();
      throw err;
    }
  }
}
