/**
 * Patterns the schema (schema.ts) and the init wizard both check. Apart from schema.ts so the
 * wizard does not load TypeBox, which is a build-time dependency (the CLI reads the generated
 * schema/inventory.schema.json).
 */
import { NAME } from './grammar-names.js';

/** Names that end up in config files and shell commands (grammar-names.ts says why). */
export const NAME_PATTERN = NAME.pattern;
export const HOSTNAME_PATTERN =
  '^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$';
