/** Version gates: what each keepalived and nginx understands, and the files rendered for it. */
import { atLeast, features } from '../../../src/render/features.js';
import { renderHost } from '../../../src/render/render.js';
import { fixturePath, loadValid } from '../../helpers/inventory.js';

test('dotted versions compare numerically; an unknown version is not at least anything', () => {
  expect(atLeast('2.2.7', '2.2.0')).toBe(true);
  expect(atLeast('2.10.0', '2.9')).toBe(true);
  expect(atLeast('2.1.5', '2.2.0')).toBe(false);
  expect(atLeast('1.25.1', '1.25.1')).toBe(true);
  expect(atLeast(undefined, '1.0')).toBe(false);
});

test('keepalived 2.2+ gets reload_check_config; 2.1.5 and an unknown version do not', () => {
  const c = loadValid(fixturePath('active-passive.yaml')).clusters[0];
  const conf = (keepalived?: string) =>
    renderHost(c, c.lbs[0], keepalived ? { keepalived } : {}).files.find((f) => f.path.endsWith('keepalived.conf'))!
      .content;
  expect(conf('2.2.7')).toMatch(/^\s+reload_check_config \/run\/hactl-keepalived-reload-check.log$/m);
  expect(conf('2.3.3')).toContain('reload_check_config');
  expect(conf('2.1.5')).not.toContain('reload_check_config');
  expect(conf()).not.toContain('reload_check_config');
  expect(features({ nginx: '1.26.3' }).nginxHttp2Directive).toBe(true);
  expect(features({ nginx: '1.22.1' }).nginxHttp2Directive).toBe(false);
});
