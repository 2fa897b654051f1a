import type { HostFacts } from '../../../src/remote/facts.js';
import { applyRequest, planHost } from '../../../src/plan/plan.js';
import { factsOf } from '../../helpers/facts.js';
import { renderInventory } from '../../../src/render/render.js';
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { fixturePath, loadText, loadValid } from '../../helpers/inventory.js';
import { HOST_PATHS } from '../../../src/remote/paths.js';
import { factsRequest } from '../../../src/run/host-ops.js';

const render = renderInventory(loadValid(fixturePath('active-passive.yaml')))[0];

/** Facts of a host that already has exactly what the inventory renders. */
function upToDate(extra: Partial<HostFacts> = {}, of = render): HostFacts {
  const base = factsOf();
  for (const f of of.files)
    base.files[f.path] = {
      exists: true,
      mode: f.mode,
      owner: f.owner,
      group: f.group,
      sha256: f.sha256,
      content: f.content,
    };
  return { ...base, ...extra };
}

describe('planHost', () => {
  test('a host with everything in place: nothing to do, and it says why', () => {
    const p = planHost(render, upToDate());
    expect(p.changed).toBe(false);
    expect(p.summary).toMatch(/up to date/);
  });

  test("a hactl nginx file nothing renders any more is removed, nginx reloaded; other nginx files are not hactl's business", () => {
    const stale = '/etc/nginx/conf.d/hactl-oldname.conf';
    const facts = upToDate({
      managed: [...render.files.filter((f) => f.path.startsWith('/etc/nginx/conf.d/')).map((f) => f.path), stale],
    });
    facts.files[stale] = { exists: true, mode: '0644', owner: 'root', group: 'root', content: 'upstream www {}\n' };
    const p = planHost(render, facts);
    const removes = p.files.filter((f) => f.action === 'remove');
    expect(removes.map((f) => f.file.path)).toEqual([stale]);
    expect(removes[0].diff).toContain('-upstream www {}');
    expect(p.reload).toEqual(['nginx']);
    expect(p.summary).toContain(`remove ${stale}`);
    // The transaction removes it (backed up, restored if validation fails: test/unit/remote/apply.test.ts).
    expect(applyRequest(p, facts).changes).toEqual([expect.objectContaining({ action: 'remove', path: stale })]);
  });

  describe("hactl's keepalived scripts that the inventory no longer renders", () => {
    const doc = parseDocument(readFileSync(fixturePath('active-passive.yaml'), 'utf8'));
    doc.setIn(['clusters', 0, 'health_check'], doc.createNode({ alive_interval: 0 }));
    const loaded = loadText(doc.toString());
    if (!loaded.inventory) throw new Error(JSON.stringify(loaded.problems));
    const noAlive = renderInventory(loaded.inventory)[0];
    const script = (mark: boolean) => ({
      exists: true,
      mode: '0755',
      owner: 'root',
      group: 'root',
      content: `#!/bin/bash\n# ${mark ? 'Managed by hactl — do not edit.' : 'my own check'}\nexit 0\n`,
    });

    test('the alive script after alive_interval 0: removed in the transaction, keepalived reloaded', () => {
      expect(noAlive.files.map((f) => f.path)).not.toContain(HOST_PATHS.aliveScript);
      // The host as the earlier deploy left it: this render's files, and the alive script.
      const facts = upToDate({}, noAlive);
      facts.files[HOST_PATHS.aliveScript] = script(true);
      const p = planHost(noAlive, facts);
      const removes = p.files.filter((f) => f.action === 'remove');
      expect(removes.map((f) => [f.file.path, f.file.service])).toEqual([[HOST_PATHS.aliveScript, 'keepalived']]);
      expect(removes[0].diff).toContain('-#!/bin/bash');
      expect(p.reload).toEqual(['keepalived']);
      expect(applyRequest(p, facts).changes).toEqual([
        expect.objectContaining({ action: 'remove', path: HOST_PATHS.aliveScript }),
      ]);
    });

    test("a file of that name without hactl's mark is the operator's, and stays", () => {
      const facts = upToDate({}, noAlive);
      facts.files[HOST_PATHS.aliveScript] = script(false);
      expect(planHost(noAlive, facts).changed).toBe(false);
    });

    test('rendered, or absent: nothing is removed; facts always ask for both scripts', () => {
      expect(planHost(render, upToDate()).files.filter((f) => f.action === 'remove')).toEqual([]);
      expect(factsRequest(noAlive).files).toEqual(
        expect.arrayContaining([HOST_PATHS.aliveScript, HOST_PATHS.checkScript]),
      );
      expect(new Set(factsRequest(render).files).size).toBe(factsRequest(render).files.length);
    });
  });

  test('a changed file is an update with a diff; a mode-only change is chmod', () => {
    const facts = upToDate();
    const [first, second] = render.files;
    facts.files[first.path] = { ...facts.files[first.path], sha256: 'x', content: 'old\n' };
    facts.files[second.path] = { ...facts.files[second.path], mode: '0777' };
    const p = planHost(render, facts);
    expect(p.files.find((f) => f.file.path === first.path)).toMatchObject({ action: 'update', reasons: ['content'] });
    expect(p.files.find((f) => f.file.path === second.path)).toMatchObject({
      action: 'chmod',
      reasons: [`mode 0777 → ${second.mode}`],
    });
  });

  test('a new server: packages to install, sysctl to set, both services to start; the request carries the host managers', () => {
    const facts = upToDate({ programs: {}, running: { keepalived: false, nginx: false }, sysctl: {} });
    const p = planHost(render, facts);
    expect(p.packages).toEqual(['keepalived', 'nginx', 'curl']);
    expect(p.sysctl).toEqual({ 'net.ipv4.ip_nonlocal_bind': '1' });
    expect(p.start).toEqual(['nginx', 'keepalived']);
    expect(p.summary).toBe(
      'install keepalived nginx curl (then disable the packaged default site on *:80; then render for the installed versions), sysctl net.ipv4.ip_nonlocal_bind=1, start nginx, start keepalived',
    );
    expect(applyRequest(p, facts)).toMatchObject({ serviceManager: 'sysvinit', packageManager: 'apt-get', reload: [] });
  });
});
