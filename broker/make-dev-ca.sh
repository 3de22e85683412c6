#!/usr/bin/env bash
# Makes a development certificate authority and a broker certificate for Mosquitto's TLS
# listener (8883): broker/certs/{ca.crt,ca.key,server.crt,server.key}. For development and
# tests only; a real deployment uses certificates from its own CA. Not committed.
#
#   pnpm broker:certs            (CERTS_DIR to write elsewhere; BROKER_HOSTS for more names)
# Existing files are kept; delete the directory to make new ones.
set -euo pipefail
dir=${CERTS_DIR:-$(dirname "$0")/certs}
hosts=${BROKER_HOSTS:-message-mediator-broker,localhost}
mkdir -p "$dir"
cd "$dir"
if [ -f ca.crt ] && [ -f server.crt ]; then
  echo "certificates already in $dir"
  exit 0
fi

san="IP:127.0.0.1"
IFS=',' read -ra names <<< "$hosts"
for n in "${names[@]}"; do san="$san,DNS:$n"; done

openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 825 \
  -subj "/CN=Fresh Frontier development CA" \
  -keyout ca.key -out ca.crt 2>/dev/null
openssl req -newkey rsa:2048 -nodes -sha256 \
  -subj "/CN=${names[0]}" -keyout server.key -out server.csr 2>/dev/null
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days 825 \
  -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san") \
  -out server.crt 2>/dev/null
rm -f server.csr ca.srl
# Mosquitto drops to its own user before reading the key; the CA key stays private.
chmod 644 ca.crt server.crt server.key
chmod 600 ca.key
echo "made a development CA and a broker certificate for $san in $dir"
