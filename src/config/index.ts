export { loadConfig, deriveTokenKey } from './load.js';
export { ConfigError, type ConfigProblem } from './errors.js';
export { parseDuration } from './duration.js';
export { ENV_NAMES, SETTINGS, type SettingName } from './settings.js';
export type * from './types.js';
