import { closest, editDistance } from '../../../src/util/edit-distance.js';

test('edit distance', () => {
  expect(editDistance('valdate', 'validate')).toBe(1);
  expect(editDistance('deplyo', 'deploy')).toBe(2);
  expect(editDistance('', 'abc')).toBe(3);
  expect(editDistance('same', 'same')).toBe(0);
});

test('closest: near enough to be a typo, else nothing', () => {
  const ids = ['deploy', 'verify', 'validate', 'status', 'lab:up', 'lab:down', 'lab:status'];
  expect(closest('valdate', ids)).toBe('validate');
  expect(closest('deplyo', ids)).toBe('deploy');
  expect(closest('lab:upp', ids)).toBe('lab:up');
  expect(closest('statsu', ids)).toBe('status');
  expect(closest('frobnicate', ids)).toBeUndefined();
  expect(closest('x', ids)).toBeUndefined();
});
