/**
 * Routes: the table of route fields (file shape, parser, default) and their loading. The fields'
 * defaults are the one place route defaults live; the API_TARGET shortcut route takes them too.
 */
import { z } from 'zod';

import { Invalid } from './invalid.js';
import { oneOf, parseBoolean, parseDurationMs, parseMethods, parseScopes, show } from './parsers.js';
import { parseTarget } from './parsers-net.js';
import type { Problems, Source } from './problems.js';
import { InvalidAt, parseRoutePolicy, REQUIRE_EXPECT } from './route-require.js';
import { AUDIENCE_EXPECT, EXCHANGE_EXPECT, parseAudience, parseExchange } from './route-tokens.js';
import { MAX_ROUTE_TIMEOUT_MS } from './settings.js';
import { BOOLEAN, Bool, DURATION, List, Num, Str, URL_STRING } from './shapes.js';
import type { RouteConfig, TokenType } from './types.js';

const TOKEN_TYPES: readonly TokenType[] = ['user', 'client', 'optional', 'none'];

/** A route's prefix: a plain, normalised path outside /auth. */
export function parsePrefix(text: string): string {
  if (!text.startsWith('/')) throw new Invalid(`must start with / (got ${show(text)})`);
  if (text.includes('%'))
    throw new Invalid(`must not contain % (got ${show(text)}): write the path unencoded`);
  if (/[\p{Cc}\s?#\\]/u.test(text)) {
    throw new Invalid(`must be a plain path without spaces, ?, # or \\ (got ${show(text)})`);
  }
  const prefix = text.replace(/\/+$/, '') || '/';
  const segments = prefix === '/' ? [] : prefix.split('/').slice(1);
  if (segments.includes('')) throw new Invalid(`must not contain an empty segment // (got ${show(text)})`);
  if (segments.some((s) => s === '.' || s === '..')) {
    throw new Invalid(`must not contain . or .. segments (got ${show(text)})`);
  }
  const lower = prefix.toLowerCase();
  if (lower === '/auth' || lower.startsWith('/auth/')) {
    throw new Invalid(`must not be /auth or under it (got ${show(text)}): those paths belong to the gateway`);
  }
  return prefix;
}

interface RouteField<S extends z.ZodType, T> {
  expect: string;
  schema: S;
  parse: (value: z.infer<S>) => T;
  /** As written in a file, parsed by `parse`; undefined: required (prefix, target) or unset. */
  default?: string;
  /** For the "is required" message of fields without a default. */
  example?: string;
}

const field = <S extends z.ZodType, T>(f: RouteField<S, T>): RouteField<S, T> => f;

/** Every key a route may have in the file. */
export const ROUTE_FIELDS = {
  prefix: field({
    expect: 'a path string such as /api/orders',
    schema: Str,
    parse: parsePrefix,
    example: '/api/orders',
  }),
  target: field({ expect: URL_STRING, schema: Str, parse: parseTarget, example: 'http://orders:8080/v1' }),
  token: field({
    expect: TOKEN_TYPES.join(', '),
    schema: Str,
    parse: (v) => oneOf(v, TOKEN_TYPES),
    default: 'user',
  }),
  scopes: field({
    expect: 'a list of scopes or a space-separated string',
    schema: List,
    parse: (v) => parseScopes(v, false),
    default: '',
  }),
  csrf: field({ expect: BOOLEAN, schema: Bool, parse: parseBoolean, default: 'true' }),
  methods: field({ expect: 'a list of HTTP methods such as [GET, POST]', schema: List, parse: parseMethods }),
  websocket: field({ expect: BOOLEAN, schema: Bool, parse: parseBoolean, default: 'false' }),
  timeout: field({
    expect: DURATION,
    schema: Num,
    parse: (v) => parseDurationMs(v, { min: 1, max: MAX_ROUTE_TIMEOUT_MS, maxText: '24d' }),
    default: '30s',
  }),
  // Any shape passes the file check: parseRoutePolicy names the exact key of a problem.
  require: field({ expect: REQUIRE_EXPECT, schema: z.unknown(), parse: parseRoutePolicy }),
  audience: field({ expect: AUDIENCE_EXPECT, schema: Str, parse: parseAudience }),
  exchange: field({ expect: EXCHANGE_EXPECT, schema: z.unknown(), parse: parseExchange }),
};

type Fields = typeof ROUTE_FIELDS;
type FieldName = keyof Fields;
type FieldValue<K extends FieldName> = ReturnType<Fields[K]['parse']>;

export const RouteFile = z.strictObject({
  prefix: ROUTE_FIELDS.prefix.schema.nullish(),
  target: ROUTE_FIELDS.target.schema.nullish(),
  token: ROUTE_FIELDS.token.schema.nullish(),
  scopes: ROUTE_FIELDS.scopes.schema.nullish(),
  csrf: ROUTE_FIELDS.csrf.schema.nullish(),
  methods: ROUTE_FIELDS.methods.schema.nullish(),
  websocket: ROUTE_FIELDS.websocket.schema.nullish(),
  timeout: ROUTE_FIELDS.timeout.schema.nullish(),
  require: ROUTE_FIELDS.require.schema.nullish(),
  audience: ROUTE_FIELDS.audience.schema.nullish(),
  exchange: ROUTE_FIELDS.exchange.schema.nullish(),
} satisfies Record<FieldName, z.ZodType>);
export type RouteFileEntry = z.infer<typeof RouteFile>;

function fieldDefault<K extends FieldName>(name: K): FieldValue<K> | undefined {
  const { default: text, parse } = ROUTE_FIELDS[name];
  // The default is written in the field's own shape, so its own parser takes it.
  return text === undefined ? undefined : (parse as (v: string) => FieldValue<K>)(text);
}

/** Everything a route gets when its file entry (or API_TARGET) leaves it out. */
export function routeDefaults(): Omit<RouteConfig, 'prefix' | 'target'> {
  return {
    token: fieldDefault('token')!,
    scopes: fieldDefault('scopes')!,
    csrf: fieldDefault('csrf')!,
    methods: fieldDefault('methods'),
    websocket: fieldDefault('websocket')!,
    timeoutMs: fieldDefault('timeout')!,
    require: fieldDefault('require'),
    audience: fieldDefault('audience'),
    exchange: fieldDefault('exchange'),
  };
}

/** One file route; undefined (with the problems recorded) when any field is bad. */
function loadRoute(
  entry: RouteFileEntry,
  i: number,
  file: string,
  problems: Problems,
): RouteConfig | undefined {
  const before = problems.count;
  const src = (name: string): Source => ({
    variable: 'BFF_CONFIG',
    label: `routes[${i}].${name} (in ${file})`,
    fileKey: `routes[${i}].${name}`,
  });
  const read = <K extends FieldName>(name: K): FieldValue<K> | undefined => {
    const raw = entry[name];
    const value = typeof raw === 'string' ? raw.trim() : raw;
    if (value === undefined || value === null || value === '') {
      const example = ROUTE_FIELDS[name].example;
      if (example !== undefined)
        return problems.fail(src(name), `is required: set it (e.g. ${name}: ${example})`);
      return fieldDefault(name);
    }
    // The value passed this field's schema (file.ts), which is what its parser takes.
    const parse = ROUTE_FIELDS[name].parse as (v: unknown) => FieldValue<K>;
    try {
      return parse(value);
    } catch (err) {
      // A problem below the field (require.claims.groups) names its own key.
      if (err instanceof InvalidAt) return problems.fail(src(`${name}.${err.key}`), err.message);
      if (err instanceof Invalid) return problems.fail(src(name), err.message);
      throw err;
    }
  };
  const route = {
    prefix: read('prefix'),
    target: read('target'),
    token: read('token'),
    scopes: read('scopes'),
    csrf: read('csrf'),
    methods: read('methods'),
    websocket: read('websocket'),
    timeoutMs: read('timeout'),
    require: read('require'),
    audience: read('audience'),
    exchange: read('exchange'),
  };
  const userToken = route.token === 'user' || route.token === 'optional';
  if (route.require !== undefined && !userToken) {
    problems.fail(
      src('require'),
      `needs token: user or optional (a policy is checked against the user's session; this route has token: ${route.token})`,
    );
  }
  for (const key of ['audience', 'exchange'] as const) {
    if (route[key] !== undefined && !userToken) {
      problems.fail(
        src(key),
        `needs token: user or optional (it is the user's token for this API; this route has token: ${route.token})`,
      );
    }
  }
  if (route.audience !== undefined && route.exchange !== undefined) {
    problems.fail(
      src('exchange'),
      'cannot be set together with audience: the route gets either the token for its resource (audience) or an exchanged one (exchange)',
    );
  }
  return problems.count > before ? undefined : (route as RouteConfig);
}

/**
 * The file's routes, then API_TARGET's `/api` route (replacing a file route `/api` in place).
 * `entries[i]` undefined: that entry's shape was already reported as bad.
 */
export function loadRoutes(
  entries: ReadonlyArray<RouteFileEntry | undefined>,
  file: string,
  apiTarget: string | undefined,
  problems: Problems,
): RouteConfig[] {
  const routes: RouteConfig[] = [];
  const seen = new Map<string, number>();
  entries.forEach((entry, i) => {
    const route = entry === undefined ? undefined : loadRoute(entry, i, file, problems);
    if (route === undefined) return;
    const earlier = seen.get(route.prefix);
    if (earlier !== undefined) {
      problems.add(
        'BFF_CONFIG',
        `routes[${i}].prefix (in ${file}) repeats routes[${earlier}].prefix ${route.prefix}: merge the two routes or change one prefix`,
        `routes[${i}].prefix`,
      );
      return;
    }
    seen.set(route.prefix, i);
    routes.push(route);
  });

  if (apiTarget !== undefined) {
    const apiRoute: RouteConfig = { prefix: '/api', target: apiTarget, ...routeDefaults() };
    const existing = routes.findIndex((route) => route.prefix === '/api');
    if (existing === -1) routes.push(apiRoute);
    else routes[existing] = apiRoute;
  }
  return routes;
}
