// Discovery documents and the routing of API paths to resources.
import type { ResourceType, Route } from './kube-resources.ts';

/** Discovery documents; undefined when the path is not one. */
export function discovery(
  types: readonly ResourceType[],
  url: string,
  path: string,
): object | undefined {
  if (path === '/api' || path === '/api/') {
    return {
      kind: 'APIVersions',
      versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: url }],
    };
  }
  const groups = [...new Set(types.filter((t) => t.group !== '').map((t) => t.group))];
  const groupDoc = (g: string) => ({
    name: g,
    versions: [{ groupVersion: `${g}/v1`, version: 'v1' }],
    preferredVersion: { groupVersion: `${g}/v1`, version: 'v1' },
  });
  if (path === '/apis' || path === '/apis/') {
    return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(groupDoc) };
  }
  const resourceList = (group: string, version: string): object | undefined => {
    const inVersion = types.filter((t) => t.group === group && t.version === version);
    if (inVersion.length === 0) return undefined;
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: group === '' ? version : `${group}/${version}`,
      resources: inVersion.flatMap((t) => [
        {
          name: t.plural,
          singularName: '',
          namespaced: t.namespaced,
          kind: t.kind,
          verbs: [
            'create',
            'delete',
            'deletecollection',
            'get',
            'list',
            'patch',
            'update',
            'watch',
          ],
        },
        ...(t.statusSubresource
          ? [
              {
                name: `${t.plural}/status`,
                singularName: '',
                namespaced: t.namespaced,
                kind: t.kind,
                verbs: ['get', 'patch', 'update'],
              },
            ]
          : []),
      ]),
    };
  };
  if (path === '/api/v1') return resourceList('', 'v1');
  const m = /^\/apis\/([^/]+)(?:\/([^/]+))?\/?$/.exec(path);
  if (m === null || !groups.includes(m[1]!)) return undefined;
  if (m[2] === undefined) return { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(m[1]!) };
  return resourceList(m[1]!, m[2]);
}

/**
 * The resource a path names. undefined: not an API path of a served group (the text 404);
 * null: a served group, but no such version or resource (the JSON 404).
 */
export function route(types: readonly ResourceType[], path: string): Route | null | undefined {
  let group: string;
  let version: string;
  let rest: string[];
  const parts = path.split('/').slice(1);
  if (parts[0] === 'api' && parts.length >= 2) {
    group = '';
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
    if (!types.some((t) => t.group === group)) return undefined;
  } else return undefined;
  if (rest.some((p) => p === '')) return null;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = decodeURIComponent(rest[1]!);
    rest = rest.slice(2);
  }
  const [plural, name, sub, ...extra] = rest;
  if (plural === undefined || extra.length > 0) return null;
  const type = types.find((t) => t.group === group && t.version === version && t.plural === plural);
  if (type === undefined) return null;
  if (sub !== undefined && !(sub === 'status' && type.statusSubresource)) return null;
  if (!type.namespaced && namespace !== undefined) return null;
  return {
    type,
    namespace,
    name: name === undefined ? undefined : decodeURIComponent(name),
    status: sub === 'status',
  };
}
