/** Rules for the state-change hooks (notify:) that a schema cannot express. */
import type { Rule } from './lint-rule.js';

/**
 * A notify: block that leaves a VIP with a timeout but neither a command nor a webhook calls
 * nothing: almost always a hook that was meant to be there (a typo, or a field put on the wrong
 * level), and an operator would only find out when no alert came.
 */
export const notifyHasHook: Rule = (c, at, loc) => {
  const own = c.notify ?? {};
  const out = [];
  const empty = (n: { command?: string; webhook?: string }) => !n.command && !n.webhook;
  if (c.notify && empty(own) && c.vips.every((v) => empty({ ...own, ...(v.notify ?? {}) })))
    out.push(
      loc.problem(
        at('notify'),
        'notify',
        'notify: has neither a command nor a webhook, so no hook is called',
        'add command: or webhook:, or remove notify:',
        {
          severity: 'warning',
        },
      ),
    );
  c.vips.forEach((v, i) => {
    if (v.notify && empty({ ...own, ...v.notify }))
      out.push(
        loc.problem(
          at('vips', i, 'notify'),
          'notify',
          `notify: of VIP ${v.name} has neither a command nor a webhook (here or on the cluster), so no hook is called`,
          'add command: or webhook:, or remove notify:',
          { severity: 'warning' },
        ),
      );
  });
  return out;
};
