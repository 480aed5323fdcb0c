/** Where emails go. A provider throws on failure: RetryAfterError / Error (retriable) or NonRetriableError. */
export interface EmailMessage {
  to: string;
  subject: string;
  html: string;
}

export interface EmailProvider {
  readonly name: string;
  /** Sends once per idempotencyKey (the provider dedupes on it); returns the provider's message id. */
  send(message: EmailMessage, options: { idempotencyKey: string; signal: AbortSignal }): Promise<{ id: string }>;
}
