/**
 * POST /api/feedback of the built-in dashboard: an operator marks an alert a
 * false alarm or right (the buttons of the alert list, or any HTTP client).
 * The dashboard is otherwise read-only and unauthenticated, so this one
 * writing route takes a bearer token (config feedback.token); without a token
 * configured it is off. The token is compared in constant time and never
 * logged or echoed.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { UserError } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import type { AlertLookup, MarkOutcome } from '../../detector/feedback/record.ts';
import type { FeedbackInput } from '../../detector/feedback/spec.ts';

/** The largest request body accepted, bytes (a mark is a few hundred). */
const MAX_BODY_BYTES = 8 * 1024;

export interface FeedbackEndpointOptions {
  /** The bearer token callers must send. */
  token: string;
  /** Writes the mark (FeedbackRecorder.mark). */
  mark(input: FeedbackInput, lookup: AlertLookup, defaultAuthor: string): Promise<MarkOutcome>;
  /** Where alerts not on the dashboard are looked up (e.g. the alerts topic); the dashboard's own alerts come first. */
  lookup?: AlertLookup;
}

/** An HTTP answer the server sends as JSON `{ error }` (or the body on success). */
export class EndpointError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Whether the request carries `Authorization: Bearer <token>` (constant time whatever the length). */
export function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match !== null && timingSafeEqual(digest(match[1]), digest(token));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new EndpointError(413, `the body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The mark a request body asks for; a 400 saying what is wrong otherwise. */
export function parseFeedbackBody(text: string): FeedbackInput {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new EndpointError(400, `the body is not JSON: ${(error as Error).message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new EndpointError(
      400,
      'the body must be a JSON object {"alert": "network/cluster/node", "verdict": "false"}',
    );
  const fields = body as Record<string, unknown>;
  for (const key of Object.keys(fields))
    if (!['alert', 'verdict', 'note', 'by'].includes(key))
      throw new EndpointError(400, `unknown field "${key}": expected alert, verdict, note, by`);
  const stringField = (key: string, required: boolean): string | undefined => {
    const value = fields[key];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string')
      throw new EndpointError(400, `field "${key}" must be a string, got ${JSON.stringify(value) ?? 'nothing'}`);
    return value;
  };
  const verdict = fields.verdict;
  return {
    alert: stringField('alert', true),
    verdict: typeof verdict === 'boolean' ? String(verdict) : stringField('verdict', true),
    note: stringField('note', false),
    by: stringField('by', false),
  };
}

/**
 * Handles one POST /api/feedback: 401 without the token, 400 for bad input,
 * 404 for an alert nobody knows, 200 with the record and what it does.
 */
export async function handleFeedback(
  req: IncomingMessage,
  options: FeedbackEndpointOptions,
  dashboardLookup: AlertLookup,
  logger: Logger,
): Promise<MarkOutcome> {
  if (!authorized(req, options.token))
    throw new EndpointError(401, 'a valid bearer token is required (Authorization: Bearer …)');
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type))
    throw new EndpointError(400, `content-type must be application/json, got "${type}"`);
  const input = parseFeedbackBody(await readBody(req));
  const fallback = options.lookup;
  const lookup: AlertLookup = {
    where: fallback ? `${dashboardLookup.where} or ${fallback.where}` : dashboardLookup.where,
    find: async (id) => (await dashboardLookup.find(id)) ?? (await fallback?.find(id)),
  };
  try {
    const outcome = await options.mark(input, lookup, 'dashboard');
    logger.info(
      { alert: outcome.feedback.alertId, verdict: outcome.feedback.verdict, author: outcome.feedback.author },
      'feedback marked from the dashboard',
    );
    return outcome;
  } catch (error) {
    if (error instanceof UserError)
      throw new EndpointError(error.code === 'FEEDBACK_UNKNOWN_ALERT' ? 404 : 400, error.message);
    throw error;
  }
}
