import { readFileSync } from 'node:fs';
import { inventoryReference, spliceReference } from '../../../src/docs/inventory-reference.js';

describe('README', () => {
  const readme = readFileSync('README.md', 'utf8');

  test('the inventory reference is the one generated from the schema (run: hactl schema --update-readme README.md)', () => {
    expect(spliceReference(readme)).toBe(readme);
  });

  test('the reference lists every documented key, nested ones included', () => {
    const ref = inventoryReference();
    for (const key of [
      'ssh.host_key_policy',
      'clusters[].vips[].vrid',
      'clusters[].vips[].auth.pass_env',
      'clusters[].health_check.weight',
      'clusters[].sites[].server_names',
      'clusters[].load_balancers[].ssh.jump_host',
    ]) {
      expect(ref).toContain(`\`${key}\``);
    }
  });

  test('keeps the two set-up commands CI and operators rely on', () => {
    expect(readme).toContain('bash scripts/setup.sh && npm run demo');
    expect(readme).toContain('bash scripts/setup.sh && npm test');
    const ci = readFileSync('.ci/run', 'utf8');
    expect(ci).toContain('bash scripts/setup.sh');
    expect(ci).toContain('npm test');
  });
});
