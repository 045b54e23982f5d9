// The hub's HTTP API as the web inbox calls it: same origin, the session cookie sent by the
// browser (never readable here: it is HttpOnly), JSON in and out, every failure an IpcError
// `{code, message}` like the desktop's, and a 401 reported once as "signed out".
import type { IpcError } from '../backend';

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export class Api {
  /** Called when the hub says the session is over (401): the page goes back to sign-in. */
  onsignedout: () => void = () => {};

  constructor(
    readonly base: string = '',
    private readonly fetcher: Fetch = (input, init) => fetch(input, init),
  ) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await this.fetcher(`${this.base}${path}`, {
        method,
        credentials: 'same-origin',
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw { code: 'agent_unavailable', message: `the hub cannot be reached (${String(e)})` } satisfies IpcError;
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    if (!response.ok) {
      if (response.status === 401 && path !== '/v1/session') this.onsignedout();
      throw toError(response.status, parsed);
    }
    return parsed as T;
  }

  get = <T>(path: string) => this.call<T>('GET', path);
  post = <T>(path: string, body?: unknown) => this.call<T>('POST', path, body ?? {});
  put = <T>(path: string, body: unknown) => this.call<T>('PUT', path, body);
  delete = <T>(path: string) => this.call<T>('DELETE', path);
}

/** The hub's `{code, message}`, or one made from the status when the body is not that. */
export function toError(status: number, body: unknown): IpcError {
  if (typeof body === 'object' && body !== null && 'code' in body && 'message' in body) {
    const { code, message } = body as { code: string; message: string };
    // The hub's codes (invalid_credentials, forbidden…) are wider than the desktop's.
    return { code, message } as unknown as IpcError;
  }
  return { code: 'hub_failed', message: `the hub answered ${status}` };
}
