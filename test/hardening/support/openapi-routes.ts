import type { TestServer } from '../../support/test-server.js';

export interface RouteSpec {
  readonly method: string;
  /** OpenAPI form: `/api/chats/{chatId}`. */
  readonly path: string;
  readonly pathParams: string[];
  readonly queryParams: string[];
  readonly bodyProps: string[];
  readonly multipart: boolean;
  /** `METHOD /path` as the tables key it. */
  readonly key: string;
}

/** Every operation of the server's OpenAPI document (`/openapi.json`). */
export async function routesFromOpenApi(t: TestServer): Promise<RouteSpec[]> {
  const res = await fetch(`${t.url}/openapi.json`);
  if (res.status !== 200) throw new Error(`/openapi.json answered ${res.status}`);
  const doc = (await res.json()) as { paths: Record<string, Record<string, any>> };
  const routes: RouteSpec[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const params = (op.parameters ?? []) as { in: string; name: string }[];
      const content = op.requestBody?.content ?? {};
      const json = content['application/json']?.schema;
      routes.push({
        method: method.toUpperCase(),
        path,
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: params.filter((p) => p.in === 'query').map((p) => p.name),
        bodyProps: Object.keys(json?.properties ?? {}),
        multipart: 'multipart/form-data' in content || /avatar$/.test(path),
        key: `${method.toUpperCase()} ${path}`,
      });
    }
  }
  return routes;
}

/** Fills `{name}` segments (values are already URL-encoded by the caller). */
export function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(/\{([^}]+)\}/g, (_m, name: string) => values[name] ?? '1');
}
