"""Stands in for an OAuth authorization server in the gateway's tests (PyJWT + cryptography from
PyPI): makes signing keys and publishes them as a JWKS file, and signs access tokens.

usage: issuer.py keys DIR            -> DIR/jwks.json (public) and DIR/*.pem (private): rsa, ec, ed
       issuer.py sign DIR KEY ALG CLAIMS_JSON [HEADER_JSON]   -> prints a token
       issuer.py introspect DIR PORT CLIENT_ID SECRET  -> an RFC 7662 endpoint at /introspect on
           127.0.0.1:PORT answering from DIR/tokens.json ({token: answer}; unknown tokens are
           inactive), for the client with that secret only; it counts questions in DIR/asked
KEY is rsa, ec, ed or "none" (an unsigned token); ALG is the JWS algorithm to sign with, so a
test can also sign with the wrong one (HS256 keyed with the RSA public key: algorithm confusion)."""
import json
import os
import sys

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm


def keys(d):
    made = {"rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "ec": ec.generate_private_key(ec.SECP256R1()),
            "ed": ed25519.Ed25519PrivateKey.generate()}
    published = []
    for name, k in made.items():
        with open(os.path.join(d, name + ".pem"), "wb") as f:
            f.write(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        to_jwk = {"rsa": RSAAlgorithm, "ec": ECAlgorithm, "ed": OKPAlgorithm}[name].to_jwk
        jwk = json.loads(to_jwk(k.public_key()))
        jwk.update({"kid": name, "use": "sig"})
        published.append(jwk)
    # An encryption key in the set is skipped, not used for signatures.
    enc = json.loads(RSAAlgorithm.to_jwk(rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()))
    enc.update({"kid": "enc", "use": "enc"})
    published.append(enc)
    with open(os.path.join(d, "jwks.json"), "w") as f:
        json.dump({"keys": published}, f)


def sign(d, key, alg, claims, header):
    if key == "none":
        return jwt.encode(claims, None, algorithm="none", headers=header)
    pem = open(os.path.join(d, key + ".pem"), "rb").read()
    if alg.startswith("HS"):
        # The public key as an HMAC secret: what an algorithm-confusion attack sends.
        public = serialization.load_pem_private_key(pem, None).public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        import hmac, hashlib, base64
        def b64(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
        h = {"alg": alg, "typ": "JWT", **header}
        signing = b64(json.dumps(h).encode()) + "." + b64(json.dumps(claims).encode())
        return signing + "." + b64(hmac.new(public, signing.encode(), hashlib.sha256).digest())
    return jwt.encode(claims, serialization.load_pem_private_key(pem, None), algorithm=alg, headers={"kid": key, **header})


def introspect(d, port, client_id, secret):
    import base64
    from http.server import BaseHTTPRequestHandler, HTTPServer
    from urllib.parse import parse_qs, unquote_plus

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            auth = self.headers.get("Authorization", "")
            ok = False
            if auth.startswith("Basic "):
                user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
                ok = unquote_plus(user) == client_id and unquote_plus(pw) == secret
            form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode())
            if not ok or self.path != "/introspect":
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            with open(os.path.join(d, "asked"), "a") as f:
                f.write("x")
            answers = json.load(open(os.path.join(d, "tokens.json")))
            body = json.dumps(answers.get(form.get("token", [""])[0], {"active": False})).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    HTTPServer(("127.0.0.1", int(port)), Handler).serve_forever()


if __name__ == "__main__":
    if sys.argv[1] == "introspect":
        introspect(*sys.argv[2:6])
    elif sys.argv[1] == "keys":
        keys(sys.argv[2])
    else:
        print(sign(sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5]), json.loads(sys.argv[6]) if len(sys.argv) > 6 else {}))
