import { InfluxDB } from 'influx';

/** How a client authenticates to InfluxDB (config `influx.username`/`password` or `influx.token`). */
export interface InfluxAuth {
  username?: string;
  password?: string;
  token?: string;
}

/**
 * An `influx` client for a base URL with credentials. Every InfluxDB client of
 * wsn-watch is made here, so each honours the same settings: explicit
 * username/password (or userinfo in the URL, still accepted) sent as HTTP
 * Basic auth, or a token sent as an `Authorization: Token` header.
 */
export function influxClient(url: string, database: string, auth: InfluxAuth = {}): InfluxDB {
  const parsed = new URL(url);
  const username = auth.username ?? (decodeURIComponent(parsed.username) || undefined);
  const password = auth.password ?? (decodeURIComponent(parsed.password) || undefined);
  return new InfluxDB({
    hosts: [
      {
        host: parsed.hostname,
        port: Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80)),
        protocol: parsed.protocol === 'https:' ? 'https' : 'http',
        ...(auth.token ? { options: { headers: { Authorization: `Token ${auth.token}` } } } : {}),
      },
    ],
    // The client fills an undefined username with "root" and sends Basic
    // root:root; null (not a string) sends no Basic header, so a token or an
    // InfluxDB without auth sees no made-up credentials.
    username: username ?? (null as unknown as string),
    password: password ?? (null as unknown as string),
    database,
  });
}
