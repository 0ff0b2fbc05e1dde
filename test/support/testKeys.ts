/** API keys and app ids for tests: well-formed, obviously fake. */
export const TEST_APP_ID = 'app_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1X';
export const OTHER_APP_ID = 'app_test_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1Y';

export const KEYS = {
  admin: 'sk_admin_0000000000000000000000000000test',
  metrics: 'sk_metrics_00000000000000000000000000test',
  app: 'sk_live_app_000000000000000000000000000test',
  otherApp: 'sk_test_app_000000000000000000000000000test',
} as const;

export const AUTH_KEYS = [
  { key: KEYS.admin, role: 'admin' },
  { key: KEYS.metrics, role: 'metrics' },
  { key: KEYS.app, role: 'app', appId: TEST_APP_ID },
  { key: KEYS.otherApp, role: 'app', appId: OTHER_APP_ID },
];

export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}
