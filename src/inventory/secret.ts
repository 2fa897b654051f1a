/** A secret renders into keepalived.conf but prints as [REDACTED] everywhere else. */
export const REDACTED = '[REDACTED]';

export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED;
  }
}

/** The one masker: every occurrence of each secret's value in text (plans, diffs, logs, --json). */
export function maskSecrets(text: string, secrets: Iterable<Secret>): string {
  let out = text;
  for (const s of secrets) {
    const value = s.reveal();
    if (value.length > 0) out = out.split(value).join(REDACTED);
  }
  return out;
}
