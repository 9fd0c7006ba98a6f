/**
 * An error a user can cause: it carries a stable code and says what was wrong
 * and what to do. The CLI prints these without a stack trace.
 */
export class UserError extends Error {
  readonly code: string;
  readonly hint?: string;

  constructor(code: string, message: string, hint?: string) {
    super(message);
    this.name = 'UserError';
    this.code = code;
    this.hint = hint;
  }
}
