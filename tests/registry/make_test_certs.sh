#!/usr/bin/env bash
# Makes the certificates the TLS tests use, with the openssl command line, into DIR (a
# test's temporary directory): nothing private is kept in the repository. EC P-256 keys,
# valid for two days.
#
#   ca.pem                 the test CA ("Rill test CA") that the client is told to trust
#   server.pem/.key        the registry's: CN localhost, SAN DNS:localhost, IP:127.0.0.1, by ca
#   other-ca.pem           another CA, which the client does not trust
#   other-server.pem/.key  the same names as server.pem, signed by other-ca
#   wrong-name.pem/.key    signed by ca for registry.invalid only: a host-name mismatch
#   client.pem/.key        a client certificate (CN rill-test-client) by ca, for mutual TLS
#   client-locked.key      client.key encrypted with the password "hunter2"
#
# Usage: make_test_certs.sh DIR. Prints "certificates in DIR" when done.
set -euo pipefail
dir=$1
cd "$dir"

cat > ca.cnf <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
EOF

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2> /dev/null; }

# ca NAME CN: a self-signed CA certificate NAME.pem with its key NAME.key.
ca() {
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -subj "/CN=$2" -days 2 -config ca.cnf -extensions ca \
    -out "$1.pem"
}

# leaf NAME CA CN EXTENSIONS: NAME.pem and NAME.key, signed by CA.
leaf() {
  key "$1.key"
  openssl req -new -key "$1.key" -subj "/CN=$3" -config ca.cnf -out "$1.csr"
  printf '%s\n' "basicConstraints = CA:FALSE" "keyUsage = critical,digitalSignature" \
    "authorityKeyIdentifier = keyid" "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 2 \
    -extfile "$1.ext" -out "$1.pem" 2> /dev/null
  rm "$1.csr" "$1.ext"
}

server_names="subjectAltName = DNS:localhost, IP:127.0.0.1
extendedKeyUsage = serverAuth"
ca ca "Rill test CA"
ca other-ca "Another test CA"
leaf server ca localhost "$server_names"
leaf other-server other-ca localhost "$server_names"
leaf wrong-name ca registry.invalid "subjectAltName = DNS:registry.invalid
extendedKeyUsage = serverAuth"
leaf client ca rill-test-client "extendedKeyUsage = clientAuth"
openssl pkey -in client.key -aes256 -passout pass:hunter2 -out client-locked.key
echo "certificates in $dir"
