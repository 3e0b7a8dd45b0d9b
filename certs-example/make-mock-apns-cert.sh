#!/usr/bin/env bash
# Issues the DEMO TLS server certificate of the mock APNs server (src/testkit/mock_apns/),
# signed by the existing demo root CA (root-ca.pem + root-ca-key.pem, which it does not touch).
# Writes mock-apns-cert.pem and mock-apns-key.pem next to itself, overwriting them.
# Requires: openssl (3.x).
set -euo pipefail

OUT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

cat > "$TMP/openssl.cnf" <<'CNF'
[ req ]
distinguished_name = req_dn
prompt             = no
[ req_dn ]
[ server ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
CNF

# P-256 key, unencrypted PKCS#8 PEM.
openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TMP/key.pem"
openssl req -config "$TMP/openssl.cnf" -new -sha256 -key "$TMP/key.pem" \
    -subj "/C=FR/O=Passerelle Demo/CN=localhost" -out "$TMP/server.csr"
if ! openssl x509 -req -sha256 -in "$TMP/server.csr" \
    -CA "$OUT/root-ca.pem" -CAkey "$OUT/root-ca-key.pem" \
    -set_serial "0x$(openssl rand -hex 16)" -days 7305 \
    -extfile "$TMP/openssl.cnf" -extensions server \
    -out "$TMP/cert.pem" > "$TMP/x509.log" 2>&1; then
    cat "$TMP/x509.log" >&2
    exit 1
fi

mv "$TMP/key.pem" "$OUT/mock-apns-key.pem"
mv "$TMP/cert.pem" "$OUT/mock-apns-cert.pem"
echo "Mock APNs certificate written to $OUT/mock-apns-cert.pem"
