/**
 * The wizard's only seam to the terminal. `inquirerPrompter` asks a person (Inquirer is
 * imported on first use, so other commands never load it); `scriptedPrompter` answers from a
 * table, for tests and for anyone driving the wizard from code.
 */
export interface Question<T> {
  /** Stable id ("lbs", "vip1.address"): what scripted answers are keyed by. */
  id: string;
  message: string;
  default?: T;
}

export interface InputQuestion extends Question<string> {
  /** true, or what is wrong (the prompt shows it and asks again). */
  validate?: (value: string) => true | string;
}

export interface SelectQuestion<T extends string> extends Question<T> {
  choices: { value: T; name?: string; description?: string }[];
}

export interface Prompter {
  input(q: InputQuestion): Promise<string>;
  confirm(q: Question<boolean>): Promise<boolean>;
  select<T extends string>(q: SelectQuestion<T>): Promise<T>;
}

export function inquirerPrompter(): Prompter {
  // Inquirer's modular prompts (@inquirer/prompts), not its legacy `inquirer.prompt`, which
  // pulls in rxjs (12 MB) for the same questions; the same package oclif's not-found plugin uses.
  const prompts = () => import('@inquirer/prompts');
  return {
    input: async (q) => {
      const check = q.validate;
      const answer = await (
        await prompts()
      ).input({
        message: q.message,
        default: q.default,
        validate: check ? (v: string) => check(v.trim()) : undefined,
      });
      return answer.trim();
    },
    confirm: async (q) => (await prompts()).confirm({ message: q.message, default: q.default }),
    select: async <T extends string>(q: SelectQuestion<T>) =>
      (await prompts()).select<T>({
        message: q.message,
        choices: q.choices.map((c) => ({ value: c.value, name: c.name ?? c.value, description: c.description })),
        default: q.default,
      }),
  };
}

/** Use the question's default. */
export const ACCEPT = Symbol('accept the proposed default');
export type ScriptedAnswer = string | boolean | typeof ACCEPT;

export interface AskedQuestion {
  id: string;
  message: string;
  default?: unknown;
  answer: unknown;
}

/**
 * Answers by question id. A question without an answer, an answer the question's validation
 * refuses, or ACCEPT without a default throws: a test then fails with the question named.
 */
export function scriptedPrompter(answers: Record<string, ScriptedAnswer>): Prompter & { asked: AskedQuestion[] } {
  const asked: AskedQuestion[] = [];
  const take = <T>(q: Question<T>): T => {
    if (!(q.id in answers))
      throw new Error(`unexpected question ${q.id}: "${q.message}" (default ${JSON.stringify(q.default)})`);
    const a = answers[q.id];
    if (a === ACCEPT && q.default === undefined) throw new Error(`question ${q.id} has no default to accept`);
    const value = (a === ACCEPT ? q.default : a) as T;
    asked.push({ id: q.id, message: q.message, default: q.default, answer: value });
    return value;
  };
  return {
    asked,
    input: async (q) => {
      const v = String(take(q)).trim();
      const verdict = q.validate?.(v) ?? true;
      if (verdict !== true) throw new Error(`answer ${JSON.stringify(v)} to ${q.id} refused: ${verdict}`);
      return v;
    },
    confirm: async (q) => Boolean(take(q)),
    select: async (q) => {
      const v = take(q);
      if (!q.choices.some((c) => c.value === v))
        throw new Error(
          `answer ${JSON.stringify(v)} to ${q.id} is not one of ${q.choices.map((c) => c.value).join(', ')}`,
        );
      return v;
    },
  };
}
