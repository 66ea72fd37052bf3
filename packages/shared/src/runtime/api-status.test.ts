import { ApiException } from '@kubernetes/client-node';
import { expect, test } from 'vitest';
import { apiStatus, isConflict, isNotFound } from './api-status.ts';

test('the HTTP status of a client-node ApiException, nothing for other errors', () => {
  const conflict = new ApiException(409, 'Conflict', {}, {});
  expect(apiStatus(conflict)).toBe(409);
  expect(isConflict(conflict)).toBe(true);
  expect(isNotFound(new ApiException(404, 'Not Found', {}, {}))).toBe(true);
  // A refused connection carries a string code, not a status.
  expect(apiStatus(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).toBeUndefined();
  expect(apiStatus(undefined)).toBeUndefined();
  expect(apiStatus('409')).toBeUndefined();
  expect(isConflict(new Error('409'))).toBe(false);
});
