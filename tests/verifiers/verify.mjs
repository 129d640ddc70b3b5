// Verifies access tokens with `jose` (npm), from the service's discovery
// document alone: node verify.mjs BASE_URL AUDIENCE ok:TOKEN|fail:TOKEN ...
// Exits 1 when any token's outcome differs from what it is marked with.
import { createRemoteJWKSet, jwtVerify } from "jose";

const [base, audience, ...cases] = process.argv.slice(2);
const discovery = await (await fetch(`${base}/.well-known/openid-configuration`)).json();
const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
let wrong = 0;
for (const item of cases) {
  const [expected, token] = [item.slice(0, item.indexOf(":")), item.slice(item.indexOf(":") + 1)];
  let outcome;
  try {
    const { protectedHeader } = await jwtVerify(token, jwks, {
      issuer: discovery.issuer,
      audience,
      algorithms: discovery.id_token_signing_alg_values_supported,
    });
    outcome = `ok (${protectedHeader.alg})`;
  } catch (error) {
    outcome = `fail (${error.code ?? error.name})`;
  }
  const good = outcome.startsWith(expected);
  if (!good) wrong += 1;
  console.log(`jose: expected ${expected}, got ${outcome}${good ? "" : "  <-- WRONG"}`);
}
process.exit(wrong === 0 ? 0 : 1);
