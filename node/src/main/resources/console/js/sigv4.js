// AWS Signature Version 4 with the browser's WebCrypto: the console proves it holds an access key's
// secret by signing its sign-in request, so the secret itself is never sent anywhere.
const encoder = new TextEncoder();

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), b => b.toString(16).padStart(2, '0')).join('');
}

async function sha256Hex(text) {
  return hex(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
}

async function hmac(key, text) {
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', k, encoder.encode(text)));
}

/** Whether this page may use WebCrypto at all: browsers allow it only over HTTPS and on localhost. */
export function available() {
  return typeof crypto !== 'undefined' && crypto.subtle !== undefined;
}

/**
 * The headers that sign a request: {method, path, headers: {name: value} (host included), body: string,
 * accessKeyId, secretAccessKey, region, service}. Returns the given headers plus X-Amz-Date and Authorization.
 */
export async function sign({ method, path, headers, body, accessKeyId, secretAccessKey, region, service, now = new Date() }) {
  const amzDate = now.toISOString().replace(/[:-]/g, '').replace(/\.\d{3}/, '');
  const date = amzDate.slice(0, 8);
  const all = { ...headers, 'x-amz-date': amzDate };
  const names = Object.keys(all).map(n => n.toLowerCase()).sort();
  const lower = Object.fromEntries(Object.entries(all).map(([n, v]) => [n.toLowerCase(), String(v).trim()]));
  const canonicalHeaders = names.map(n => `${n}:${lower[n]}\n`).join('');
  const signedHeaders = names.join(';');
  const canonical = [method, path, '', canonicalHeaders, signedHeaders, await sha256Hex(body)].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, await sha256Hex(canonical)].join('\n');
  let key = await hmac(encoder.encode('AWS4' + secretAccessKey), date);
  for (const part of [region, service, 'aws4_request']) key = await hmac(key, part);
  const signature = hex(await hmac(key, stringToSign));
  const out = { ...all };
  delete out.host; // the browser sets Host itself, to the same value
  out.Authorization = `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return out;
}
