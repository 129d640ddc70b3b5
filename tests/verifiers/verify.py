"""Verifies access tokens with PyJWT's PyJWKClient (PyPI), from the
service's discovery document alone:
python verify.py BASE_URL AUDIENCE ok:TOKEN|fail:TOKEN ...
Exits 1 when any token's outcome differs from what it is marked with."""

import json
import sys
import urllib.request

import jwt


def main() -> int:
    base, audience, *cases = sys.argv[1:]
    with urllib.request.urlopen(f"{base}/.well-known/openid-configuration") as reply:
        discovery = json.load(reply)
    client = jwt.PyJWKClient(discovery["jwks_uri"], cache_keys=False)
    wrong = 0
    for item in cases:
        expected, token = item.split(":", 1)
        try:
            key = client.get_signing_key_from_jwt(token)
            jwt.decode(
                token,
                key,
                algorithms=discovery["id_token_signing_alg_values_supported"],
                audience=audience,
                issuer=discovery["issuer"],
            )
            outcome = f"ok ({jwt.get_unverified_header(token)['alg']})"
        except jwt.PyJWTError as error:
            outcome = f"fail ({type(error).__name__})"
        good = outcome.startswith(expected)
        wrong += 0 if good else 1
        print(f"PyJWT: expected {expected}, got {outcome}{'' if good else '  <-- WRONG'}")
    return 0 if wrong == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
