import { useEffect, useState } from 'preact/hooks';

/** The page a hash names: `#/jobs/<id>` → { path: ['jobs', '<id>'], query }. Ids, never tokens, travel in it. */
export type Route = { path: string[]; query: URLSearchParams };

function parse(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#\/?/, '').split('?');
  return { path: path.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(search) };
}

/** The current route, following hash changes (links and back/forward). */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(location.hash));
  useEffect(() => {
    const follow = () => setRoute(parse(location.hash));
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, []);
  return route;
}

/** The href of a page: href('jobs', id) → '#/jobs/<id>', with an optional query. */
export function href(...parts: (string | Record<string, string | undefined>)[]): string {
  const path = parts.filter((part): part is string => typeof part === 'string').map(encodeURIComponent);
  const query = parts.find((part): part is Record<string, string | undefined> => typeof part === 'object');
  const search = query ? new URLSearchParams(Object.entries(query).filter((entry): entry is [string, string] => Boolean(entry[1]))).toString() : '';
  return `#/${path.join('/')}${search ? `?${search}` : ''}`;
}
