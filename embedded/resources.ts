import type { Logger } from '../common/log.ts';

/**
 * What a run has opened (dashboard, model, transport, services), closed in
 * reverse order. An error while closing one is logged and the rest are still
 * closed, so one failing service does not leave the others running.
 */
export class Resources {
  private readonly open: Array<{ name: string; close: () => Promise<unknown> }> = [];

  constructor(private readonly logger: Logger) {}

  add(name: string, close: () => Promise<unknown>): void {
    this.open.push({ name, close });
  }

  async closeAll(): Promise<void> {
    for (const resource of this.open.splice(0).reverse()) {
      await resource
        .close()
        .catch((error: unknown) => this.logger.error({ err: error, resource: resource.name }, 'error while stopping'));
    }
  }

  /** Runs a start-up step; if it fails, closes what was opened so far and rethrows. */
  async orCloseAll<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      await this.closeAll();
      throw error;
    }
  }
}
