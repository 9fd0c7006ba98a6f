import type { Subscription, Transport } from '../../common/transport.ts';

/** Subscribes `groupId` to `topic` from the beginning and collects the message values as text, in arrival order. */
export async function collectValues(
  transport: Transport,
  groupId: string,
  topic: string,
): Promise<{ values: string[]; subscription: Subscription }> {
  const values: string[] = [];
  const subscription = await transport.subscribe({
    groupId,
    topics: [topic],
    fromBeginning: true,
    onBatch: async (batch) => void values.push(...batch.messages.map((m) => m.value.toString())),
  });
  return { values, subscription };
}
