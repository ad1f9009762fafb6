// The console's one way to Sluice: the same public APIs a client calls (Kinesis and KMS in JSON 1.1,
// IAM in the Query protocol), sent through /console/api and run there as the signed-in principal.
import * as sigv4 from './sigv4.js';

/** An AWS error as the API answered it: type is its name (ResourceNotFoundException, AccessDenied, ...). */
export class ApiError extends Error {
  constructor(type, message, status) {
    super(message);
    this.name = 'ApiError';
    this.type = type;
    this.status = status;
  }
}

let session = null; // {principal, csrfToken, expiresAt}; the secret is never kept

export function principal() {
  return session ? session.principal : null;
}

async function config() {
  const response = await fetch('/console/config.json', { credentials: 'same-origin' });
  return response.json();
}

async function jsonError(response) {
  let body = {};
  try {
    body = await response.json();
  } catch (e) {
    // not JSON: the status says it
  }
  const rawType = body.__type || response.headers.get('x-amzn-ErrorType') || `HTTP ${response.status}`;
  const type = rawType.split('#').pop().split(':')[0];
  return new ApiError(type, body.message || body.Message || response.statusText, response.status);
}

function signedOut(error) {
  session = null;
  window.dispatchEvent(new Event('sluice:signed-out'));
  return error;
}

/** Why this page cannot sign in, when the browser gives it no WebCrypto (plain HTTP elsewhere than localhost); else null. */
export function insecureContext() {
  if (sigv4.available()) return null;
  return new ApiError('InsecureContext', 'Open the console over HTTPS (or on localhost): browsers allow the '
    + 'cryptography that keeps your secret key in this page only in a secure context.', 0);
}

/** This console's address on the node's HTTPS port, on the host this page came from; null when the node serves no HTTPS. */
export async function httpsConsole() {
  const { httpsPort } = await config();
  if (!httpsPort) return null;
  const url = new URL(location.href);
  url.protocol = 'https:';
  url.port = String(httpsPort);
  url.hash = '';
  url.search = '';
  return url.href;
}

/** Signs in with an access key: the page signs the sign-in request itself, the secret stays here. */
export async function signIn(accessKeyId, secretAccessKey) {
  const insecure = insecureContext();
  if (insecure) throw insecure;
  const { region } = await config();
  // a nonce makes each proof unique: the node accepts a proof once, and two sign-ins may fall in one second
  const nonce = Array.from(crypto.getRandomValues(new Uint8Array(16)), b => b.toString(16).padStart(2, '0')).join('');
  const body = JSON.stringify({ nonce });
  const headers = await sigv4.sign({
    method: 'POST', path: '/console/session', body, region, service: 'sts',
    headers: { host: location.host, 'content-type': 'application/json' },
    accessKeyId: accessKeyId.trim(), secretAccessKey: secretAccessKey.trim(),
  });
  const response = await fetch('/console/session', { method: 'POST', headers, body, credentials: 'same-origin' });
  if (!response.ok) throw await jsonError(response);
  session = await response.json();
  return session.principal;
}

/** The session this browser already has (after a reload), or null. */
export async function restoreSession() {
  const response = await fetch('/console/session', { credentials: 'same-origin' });
  const answer = response.ok ? await response.json() : { principal: null };
  session = answer.principal ? answer : null;
  return session ? session.principal : null;
}

export async function signOut() {
  if (session) {
    await fetch('/console/session', { method: 'DELETE', credentials: 'same-origin', headers: { 'X-Sluice-Csrf': session.csrfToken } });
  }
  session = null;
}

async function send(init, path = '/console/api') {
  if (!session) throw signedOut(new ApiError('ExpiredTokenException', 'Sign in first.', 401));
  const headers = { ...(init.headers || {}), 'X-Sluice-Csrf': session.csrfToken };
  const response = await fetch(path, { ...init, headers, credentials: 'same-origin' });
  if (response.status === 401) throw signedOut(await jsonError(response));
  return response;
}

async function json11(target, body) {
  const response = await send({
    method: 'POST',
    headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': target },
    body: JSON.stringify(body || {}),
  });
  if (!response.ok) throw await jsonError(response);
  return response.json();
}

/** A Kinesis operation: kinesis('DescribeStreamSummary', {StreamName}) → the API's answer. */
export function kinesis(operation, body) {
  return json11('Kinesis_20131202.' + operation, body);
}

/** A KMS operation: kms('ListAliases', {}) → the API's answer. */
export function kms(operation, body) {
  return json11('TrentService.' + operation, body);
}

function xmlToValue(element) {
  const children = Array.from(element.children);
  if (children.length === 0) return element.textContent;
  if (children.every(c => c.tagName === 'member')) return children.map(xmlToValue);
  const out = {};
  for (const c of children) out[c.tagName] = xmlToValue(c);
  return out;
}

/** An IAM action: iam('ListUsers', {}) → its <ListUsersResult> as an object (see asList). */
export async function iam(action, params) {
  const form = new URLSearchParams({ Action: action, Version: '2010-05-08' });
  for (const [name, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null) form.append(name, String(value));
  }
  const response = await send({
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body: form.toString(),
  });
  const text = await response.text();
  const xml = new DOMParser().parseFromString(text, 'application/xml');
  if (!response.ok) {
    const error = xml.getElementsByTagName('Error')[0];
    const field = name => (error && error.getElementsByTagName(name)[0] ? error.getElementsByTagName(name)[0].textContent : '');
    if (!error) throw await jsonError(new Response(text, { status: response.status, headers: response.headers }));
    throw new ApiError(field('Code'), field('Message'), response.status);
  }
  const result = xml.getElementsByTagName(action + 'Result')[0];
  return result ? xmlToValue(result) : {};
}

/** Every item of a paginated KMS list (ListKeys, ListAliases): kmsList('ListKeys', 'Keys'), following NextMarker. */
export async function kmsList(operation, member) {
  const items = [];
  let request = {};
  for (;;) {
    const page = await kms(operation, request);
    items.push(...(page[member] || []));
    if (!page.Truncated || !page.NextMarker) return items;
    request = { Marker: page.NextMarker };
  }
}

/** Every item of a paginated IAM list (Marker / IsTruncated): iamList('ListUsers', {}, 'Users'). */
export async function iamList(action, params, member) {
  const items = [];
  let request = { ...params };
  for (;;) {
    const page = await iam(action, request);
    items.push(...asList(page[member]));
    if (String(page.IsTruncated) !== 'true' || !page.Marker) return items;
    request = { ...params, Marker: page.Marker };
  }
}

/** A list from an IAM answer, whatever shape the XML gave it: '' or undefined → [], one object → [object]. */
export function asList(value) {
  if (value === undefined || value === null || value === '') return [];
  return Array.isArray(value) ? value : [value];
}

/** The stream's traffic over the last hour, per minute (see /admin/traffic). */
export async function traffic(streamName) {
  const response = await send({ method: 'GET' }, '/console/api/admin/traffic?stream=' + encodeURIComponent(streamName));
  if (!response.ok) throw await jsonError(response);
  return response.json();
}

/** The bytes of a base64 blob (GetRecords' Data). */
export function base64ToBytes(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
