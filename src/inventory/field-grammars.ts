/** Every field grammar, found by its JSON Schema pattern when ajv reports that pattern failed. */
import type { Grammar } from './grammar.js';
import { ENV_NAME, FILE_PATH, INTERFACE, JUMP_HOST, LABEL, NAME, SSH_USER } from './grammar-names.js';
import { HOST, VRRP_ADDRESS } from './grammar-addresses.js';
import { HOOK_COMMAND, WEBHOOK_URL } from './grammar-hooks.js';
import { HEADER_NAME, HEADER_VALUE, HEALTH_HOST, HEALTH_PATH, SERVER_NAME } from './grammar-nginx.js';

export const FIELD_GRAMMARS: Grammar[] = [
  NAME,
  INTERFACE,
  LABEL,
  ENV_NAME,
  SSH_USER,
  FILE_PATH,
  JUMP_HOST,
  HOST,
  VRRP_ADDRESS,
  SERVER_NAME,
  HEALTH_HOST,
  HEALTH_PATH,
  HEADER_NAME,
  HEADER_VALUE,
  HOOK_COMMAND,
  WEBHOOK_URL,
];

const byPattern = new Map(FIELD_GRAMMARS.map((g) => [g.pattern, g]));

export function grammarOf(pattern: string): Grammar | undefined {
  return byPattern.get(pattern);
}
