import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../../common/config.ts';
import { registerServicesCommands, type ServicesActions } from '../../../ops/cli.ts';
import type { DownOptions, ServiceState } from '../../../ops/services.ts';

/** Records what the commands asked for instead of starting anything. */
function harness(states: ServiceState[] = [], env: NodeJS.ProcessEnv = {}) {
  const calls: Array<{ action: string; config: Config; options?: DownOptions }> = [];
  const out: string[] = [];
  const err: string[] = [];
  const actions: ServicesActions = {
    async up(config, progress) {
      progress('kafka: starting');
      calls.push({ action: 'up', config });
      return states;
    },
    async down(config, options) {
      calls.push({ action: 'down', config, options });
    },
    async status(config) {
      calls.push({ action: 'status', config });
      return states;
    },
  };
  const program = new Command('wsn-watch').option('-c, --config <file>').exitOverride();
  registerServicesCommands(program, actions, { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env });
  const run = (...args: string[]) => program.parseAsync(['node', 'wsn-watch', ...args]);
  return { calls, out, err, run };
}

const upState: ServiceState = {
  name: 'kafka',
  state: 'up',
  address: '127.0.0.1:9092',
  version: '4.4.0',
  pid: 42,
  logFile: '/x/server.log',
};
const downState: ServiceState = {
  name: 'influxdb',
  state: 'down',
  address: '127.0.0.1:8086',
  logFile: '/x/influxd.log',
};

describe('wsn-watch services', () => {
  afterEach(() => {
    process.exitCode = undefined;
  });

  it('down keeps the state unless --purge is given', async () => {
    const h = harness();
    await h.run('services', 'down');
    await h.run('services', 'down', '--purge');
    expect(h.calls.map((c) => c.options)).toEqual([{ purge: false }, { purge: true }]);
  });

  it('builds the config from the environment (ports and state folder)', async () => {
    const h = harness([], { WSN_KAFKA_PORT: '19092', WSN_ALERTMANAGER_PORT: '19093', WSN_STATE_DIR: 'var-test' });
    await h.run('services', 'up');
    expect(h.calls[0].config.services.kafkaPort).toBe(19092);
    expect(h.calls[0].config.services.alertmanagerPort).toBe(19093);
    expect(h.calls[0].config.stateDir).toBe('var-test');
  });

  it('rejects a port that is not a number with a configuration error', async () => {
    const h = harness([], { WSN_INFLUX_PORT: 'eighty' });
    await expect(h.run('services', 'status')).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect(h.calls).toHaveLength(0);
  });

  it('up prints progress on stderr and the table with log files on stdout', async () => {
    const h = harness([upState]);
    await h.run('services', 'up');
    expect(h.err.join('')).toContain('services: kafka: starting');
    expect(h.out.join('')).toMatch(/kafka\s+up\s+4\.4\.0\s+127\.0\.0\.1:9092\s+42\s+\/x\/server\.log/);
  });

  it('status exits 1 when a service is down, 0 when all are up', async () => {
    await harness([upState, downState]).run('services', 'status');
    expect(process.exitCode).toBe(1);
    process.exitCode = undefined;
    await harness([upState]).run('services', 'status');
    expect(process.exitCode).toBeUndefined();
  });

  it('status --json prints the states as JSON', async () => {
    const h = harness([upState, downState]);
    await h.run('services', 'status', '--json');
    expect(JSON.parse(h.out.join(''))).toEqual([upState, downState]);
  });

  it('rejects an unknown subcommand', async () => {
    const h = harness();
    await expect(h.run('services', 'restart')).rejects.toThrow();
    expect(h.calls).toHaveLength(0);
  });
});
