/**
 * The emulator's built-in TLS identity: the test CA and the leaf it signed for
 * `127.0.0.1`/`localhost` (`CA:FALSE`, which rustls requires of a server cert).
 *
 * Built into the program, not read from `tests/fixtures/tls/` at run time, so
 * `te-scan emulator` works from any directory and from a bundled binary. The
 * texts are exact copies of those fixture files; a test keeps them in step.
 * The key is a throwaway for tests and demos: it protects nothing.
 *
 * @example Trust the emulator's CA in fetch
 * ```ts
 * import { DEFAULT_CA_PEM } from "./default_tls.ts";
 * import { startEmulator } from "./server.ts";
 * import assert from "node:assert/strict";
 *
 * const emulator = await startEmulator({ port: 0 });
 * const client = Deno.createHttpClient({ caCerts: [DEFAULT_CA_PEM] });
 * const res = await fetch(`${emulator.url}/__emulator/stats`, { client });
 * assert.equal(res.status, 200);
 * await res.body?.cancel();
 * client.close();
 * await emulator.close();
 * ```
 * @module
 */

/**
 * The test CA certificate (`tests/fixtures/tls/ca.pem`); clients trust the
 * emulator with it.
 *
 * @example A PEM certificate
 * ```ts
 * import { DEFAULT_CA_PEM } from "./default_tls.ts";
 * import assert from "node:assert/strict";
 * assert.equal(DEFAULT_CA_PEM.startsWith("-----BEGIN CERTIFICATE-----"), true);
 * ```
 */
export const DEFAULT_CA_PEM = `-----BEGIN CERTIFICATE-----
MIIBmzCCAUGgAwIBAgIUGI/RQetO3G3YbaNBdfAhodo9ptowCgYIKoZIzj0EAwIw
GjEYMBYGA1UEAwwPdGUtc2NhbiB0ZXN0IENBMCAXDTI2MTEyMzE4MTAwOFoYDzIw
NzYxMTIyMTgxMDA4WjAaMRgwFgYDVQQDDA90ZS1zY2FuIHRlc3QgQ0EwWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAASMvougkMOU5BJ2Bslm/fbLmwQE3TL8GvnnKOeU
ji3sQ7ZxIHzOL0a2VEWqbGcVnz3oWfx3ko4H55WXZbQaQfJWo2MwYTAdBgNVHQ4E
FgQUPlecoF/6tFNc+S0ziQ7sXdlaXwowHwYDVR0jBBgwFoAUPlecoF/6tFNc+S0z
iQ7sXdlaXwowDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwCgYIKoZI
zj0EAwIDSAAwRQIgQ6Q9dzqErst9yOekZyN4Ike5sEaoz1kn76HufA7iXlgCIQCb
B385KqJWeW3pGKJrhgWbjtVZkElkYeBQYp6EJ1D/LQ==
-----END CERTIFICATE-----
`;

/**
 * The emulator's leaf certificate (`tests/fixtures/tls/emulator.pem`).
 *
 * @example Serve HTTPS with the built-in certificate
 * ```ts
 * import { DEFAULT_CERT_PEM, DEFAULT_KEY_PEM } from "./default_tls.ts";
 * import assert from "node:assert/strict";
 *
 * const server = Deno.serve(
 *   { port: 0, cert: DEFAULT_CERT_PEM, key: DEFAULT_KEY_PEM, onListen() {} },
 *   () => new Response("ok"),
 * );
 * assert.ok(server.addr.port > 0);
 * await server.shutdown();
 * ```
 */
export const DEFAULT_CERT_PEM = `-----BEGIN CERTIFICATE-----
MIIBzDCCAXKgAwIBAgIUBOm1g9VM3iMOrjShYLsbsxAEa4UwCgYIKoZIzj0EAwIw
GjEYMBYGA1UEAwwPdGUtc2NhbiB0ZXN0IENBMCAXDTI2MTEyMzE4MTAwOFoYDzIw
NzYxMTIxMTgxMDA4WjAbMRkwFwYDVQQDDBB0ZS1zY2FuIGVtdWxhdG9yMFkwEwYH
KoZIzj0CAQYIKoZIzj0DAQcDQgAEZEvU+epkxko8i1MUBgRXu0JMgyGr+gV7Ca6P
lvhhf8qfbtSp7Q0o4SKVSmIz70Z9WmU/fyV2M6tXaVcLrandvaOBkjCBjzAMBgNV
HRMBAf8EAjAAMA4GA1UdDwEB/wQEAwIFoDATBgNVHSUEDDAKBggrBgEFBQcDATAa
BgNVHREEEzARhwR/AAABgglsb2NhbGhvc3QwHQYDVR0OBBYEFB9sbH7U/bWuwbt8
JmqKne0DVMlJMB8GA1UdIwQYMBaAFD5XnKBf+rRTXPktM4kO7F3ZWl8KMAoGCCqG
SM49BAMCA0gAMEUCIDDTt+kXdr7yJnpP6R+6ouE1zP2Wxty85q568VljCQUBAiEA
wc5yKGAlugdverVsF+QbmQqxz8aErIMe9dUBpxgMl28=
-----END CERTIFICATE-----
`;

/**
 * The private key of {@link DEFAULT_CERT_PEM} (`tests/fixtures/tls/emulator.key`).
 *
 * @example A PEM private key
 * ```ts
 * import { DEFAULT_KEY_PEM } from "./default_tls.ts";
 * import assert from "node:assert/strict";
 * assert.equal(DEFAULT_KEY_PEM.includes("PRIVATE KEY"), true);
 * ```
 */
export const DEFAULT_KEY_PEM = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgN5VMhwA25r5IzSnf
3sVOQ75ULobCJanZ/ThJ4BBUNtChRANCAARkS9T56mTGSjyLUxQGBFe7QkyDIav6
BXsJro+W+GF/yp9u1KntDSjhIpVKYjPvRn1aZT9/JXYzq1dpVwutqd29
-----END PRIVATE KEY-----
`;
