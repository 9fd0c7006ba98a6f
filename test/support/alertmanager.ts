/** An alert as Alertmanager's API v2 lists it. */
export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  status: { state: string };
}

/** The active alerts of the Alertmanager at `url` whose labels equal `labels` (resolved alerts drop out). */
export async function activeAlerts(url: string, labels: Record<string, string>): Promise<AlertmanagerAlert[]> {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(labels)) params.append('filter', `${name}="${value}"`);
  const response = await fetch(`${url}/api/v2/alerts?${params}`);
  if (response.status !== 200) throw new Error(`Alertmanager answered ${response.status} to GET /api/v2/alerts`);
  return (await response.json()) as AlertmanagerAlert[];
}
