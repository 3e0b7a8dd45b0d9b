#!/usr/bin/env bash
# Generates the DEMO certificates and keys of certs-example/ (see README.md).
# Nothing produced here is trusted by Apple Wallet or Google Wallet.
# Requires: openssl (3.x) and python3. Overwrites existing files.
set -euo pipefail

OUT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

PASS_TYPE_ID="pass.com.passerelle.demo"
TEAM_ID="PASSDEMO42"
P12_PASSWORD="passerelle"

# Signs a CSR; prints openssl's chatter only if it fails.
sign() {
    if ! openssl x509 -req -sha256 "$@" > "$TMP/x509.log" 2>&1; then
        cat "$TMP/x509.log" >&2
        return 1
    fi
}

# Random positive 128-bit serial number.
serial() { printf '0x%s' "$(openssl rand -hex 16)"; }

# RSA 2048 key, unencrypted PKCS#8 PEM.
genkey() { openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1"; }

# Minimal config so that the system openssl.cnf plays no part.
cat > "$TMP/openssl.cnf" <<'EOF'
[ req ]
distinguished_name = req_dn
prompt             = no
[ req_dn ]
[ root_ca ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
EOF

cat > "$TMP/ext.cnf" <<EOF
[ wwdr ]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
[ pass ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
1.2.840.113635.100.6.1.16 = ASN1:UTF8String:${PASS_TYPE_ID}
EOF

# 1. Root CA (30 years).
genkey "$OUT/root-ca-key.pem"
openssl req -config "$TMP/openssl.cnf" -new -x509 -sha256 \
    -key "$OUT/root-ca-key.pem" \
    -subj "/C=FR/O=Passerelle Demo/CN=Passerelle Demo Root CA" \
    -extensions root_ca -set_serial "$(serial)" -days 10950 \
    -out "$OUT/root-ca.pem"

# 2. Intermediate standing in for Apple WWDR G4 (25 years).
genkey "$OUT/wwdr-key.pem"
openssl req -config "$TMP/openssl.cnf" -new -sha256 \
    -key "$OUT/wwdr-key.pem" \
    -subj "/C=US/O=Passerelle Demo/OU=G4/CN=Demo Worldwide Developer Relations Certification Authority" \
    -out "$TMP/wwdr.csr"
sign -in "$TMP/wwdr.csr" \
    -CA "$OUT/root-ca.pem" -CAkey "$OUT/root-ca-key.pem" -set_serial "$(serial)" \
    -days 9131 -extfile "$TMP/ext.cnf" -extensions wwdr \
    -out "$OUT/wwdr.pem"

# 3. Pass Type ID certificate (20 years). Subject order matters (UID first, like Apple's).
genkey "$OUT/pass-key.pem"
openssl req -config "$TMP/openssl.cnf" -new -sha256 \
    -key "$OUT/pass-key.pem" \
    -subj "/UID=${PASS_TYPE_ID}/CN=Pass Type ID: ${PASS_TYPE_ID}/OU=${TEAM_ID}/O=Passerelle Demo/C=FR" \
    -out "$TMP/pass.csr"
sign -in "$TMP/pass.csr" \
    -CA "$OUT/wwdr.pem" -CAkey "$OUT/wwdr-key.pem" -set_serial "$(serial)" \
    -days 7305 -extfile "$TMP/ext.cnf" -extensions pass \
    -out "$OUT/pass-cert.pem"

# 4./5. PKCS#12 bundles: modern (AES-256-CBC, PBKDF2) and legacy (RC2-40 / 3DES).
openssl pkcs12 -export \
    -in "$OUT/pass-cert.pem" -inkey "$OUT/pass-key.pem" -certfile "$OUT/wwdr.pem" \
    -name "Pass Type ID: ${PASS_TYPE_ID}" -passout "pass:${P12_PASSWORD}" \
    -out "$OUT/pass.p12"
openssl pkcs12 -export -legacy \
    -in "$OUT/pass-cert.pem" -inkey "$OUT/pass-key.pem" -certfile "$OUT/wwdr.pem" \
    -name "Pass Type ID: ${PASS_TYPE_ID}" -passout "pass:${P12_PASSWORD}" \
    -out "$OUT/pass-legacy.p12"

# 6. Google service-account key JSON (+ its public key for JWT verification).
genkey "$TMP/google-key.pem"
openssl pkey -in "$TMP/google-key.pem" -pubout -out "$OUT/google-service-account-public.pem"
python3 - "$TMP/google-key.pem" "$(openssl rand -hex 20)" "$OUT/google-service-account.json" <<'EOF'
import json, secrets, sys

key_path, key_id, out_path = sys.argv[1:4]
with open(key_path) as f:
    private_key = f.read()
project = "passerelle-demo"
email = f"passerelle-demo@{project}.iam.gserviceaccount.com"
client_id = "1" + "".join(secrets.choice("0123456789") for _ in range(20))
data = {
    "type": "service_account",
    "project_id": project,
    "private_key_id": key_id,
    "private_key": private_key,
    "client_email": email,
    "client_id": client_id,
    "auth_uri": "https://accounts.google.com/o/oauth2/auth",
    "token_uri": "https://oauth2.googleapis.com/token",
    "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
    "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
    + email.replace("@", "%40"),
    "universe_domain": "googleapis.com",
}
with open(out_path, "w") as f:
    json.dump(data, f, indent=2)
    f.write("\n")
EOF

echo "Demo certificates written to $OUT"
